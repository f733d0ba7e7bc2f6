using System.Globalization;
using System.IO.Compression;
using static Microsoft.ML.Lorenza.Modeling.PickleAllowList;

namespace Microsoft.ML.Lorenza.Modeling;

/// <summary>
/// Bounds what TorchSharp.PyBridge allocates for a torch.save archive by what the archive holds, from the persistent ids
/// and the _rebuild_tensor calls that <see cref="PickleAllowList"/>'s scan follows, before anything is unpickled.
/// PyBridge does not use a storage's numel: for each tensor it allocates torch.empty(size) and fills it from the start of
/// the storage's entry (the first whose name ends with data/&lt;key&gt;). So a tensor's values, and the view PyTorch would
/// take (offset + Σ (size_i − 1)·stride_i + 1 values), must fit in its storage, the storage (numel × element size) in its
/// entry, and, as a storage shared by several tensors is copied for each, all tensors together in
/// <see cref="CopyLimit"/> times the bytes of the entries they use. An entry's length counts only as far as the file
/// backs it: the entries together may not claim more compressed bytes than the file has, and one that claims to expand
/// is measured by decompressing it. Numbers the scan cannot read as torch.save writes them are refused, not guessed.
/// </summary>
internal sealed class StorageBounds
{
    /// <summary>How many times over the tensors may copy the storages they use: tied weights share one storage.</summary>
    public const int CopyLimit = 16;

    /// <summary>The most dimensions a tensor may have here; a state dict's have a few.</summary>
    public const int MaxDimensions = 64;

    /// <summary>The storage types of the persistent ids, by class name (torch. or torch.cuda.), with their dtype and element size.</summary>
    public static IReadOnlyDictionary<string, (string DType, int Size)> Elements { get; } = new Dictionary<string, (string, int)>(StringComparer.Ordinal)
    {
        ["Double"] = ("float64", 8), ["Float"] = ("float32", 4), ["Half"] = ("float16", 2), ["BFloat16"] = ("bfloat16", 2),
        ["Long"] = ("int64", 8), ["Int"] = ("int32", 4), ["Short"] = ("int16", 2), ["Char"] = ("int8", 1), ["Byte"] = ("uint8", 1),
        ["Bool"] = ("bool", 1), ["ComplexDouble"] = ("complex128", 16), ["ComplexFloat"] = ("complex64", 8),
    };

    /// <summary>The globals whose calls PyBridge turns into a tensor (its TensorObjectConstructor).</summary>
    public static bool Rebuilds(string global) => global is "torch._utils._rebuild_tensor" or "torch._utils._rebuild_tensor_v2";

    /// <summary>A storage, as BINPERSID loads it: Numel values of DType (ElementSize bytes each), under data/Key.</summary>
    public sealed record Storage(string Key, string DType, int ElementSize, long Numel);

    private readonly string path;
    private readonly Dictionary<string, ZipArchiveEntry> byKey = new(StringComparer.Ordinal);
    private readonly Dictionary<ZipArchiveEntry, long> measured = [];
    private long storageBytes, tensorBytes;

    public StorageBounds(ZipArchive zip, long fileLength, string path)
    {
        this.path = path;
        long claimed = 0;
        foreach (var entry in zip.Entries)
        {
            claimed = Add(claimed, entry.CompressedLength);
            // data/<key> for a key without '/' (torch.save's keys are numbers): the first such entry in the archive's order, as
            // PyBridge picks it (in the current culture's comparison; whichever it reads, what it allocates is bounded here).
            var slash = entry.FullName.LastIndexOf('/');
            if (entry.FullName.AsSpan(0, slash + 1).EndsWith("data/", StringComparison.Ordinal))
                byKey.TryAdd(entry.FullName[(slash + 1)..], entry);
        }
        if (claimed > fileLength) throw Refused($"its zip entries claim {N(claimed)} bytes of data but the file has {N(fileLength)}");
    }

    /// <summary>BINPERSID: ('storage', torch.&lt;T&gt;Storage, key, location, numel), whose numel × element size must fit in data/&lt;key&gt;.</summary>
    public Storage Load(object? pid, string where)
    {
        if (pid is not object?[] { Length: 5 } id || id[0] is not "storage" || id[1] is not Global type || id[2] is not string key
            || id[4] is not long numel)
            throw Refused($"{where}: a persistent id that is not ('storage', storage type, key, location, numel) with a literal numel");
        var typeName = type.Name[(type.Name.LastIndexOf('.') + 1)..];
        if (!typeName.EndsWith("Storage", StringComparison.Ordinal) || !Elements.TryGetValue(typeName[..^"Storage".Length], out var element))
            throw Refused($"{where}: storage {OneLine.Printable(key)} has the type {type.Name}, which is no storage type");
        if (numel < 0) throw Refused($"{where}: storage {OneLine.Printable(key)} claims {N(numel)} values");
        if (key.Contains('/') || !byKey.TryGetValue(key, out var entry))
            throw Refused($"{where}: storage {OneLine.Printable(key)} has no entry data/{OneLine.Printable(key)} in the archive");
        var holds = Measure(entry);
        var needs = Times(numel, element.Size);
        if (needs > holds)
            throw Refused($"storage {OneLine.Printable(key)} claims {N(numel)} {element.DType} values ({N(needs)} bytes) but {OneLine.Printable(entry.FullName)} holds {N(holds)} bytes");
        return new Storage(key, element.DType, element.Size, numel);
    }

    /// <summary>_rebuild_tensor(_v2)(storage, storage_offset, size, stride, …), the tensor named <paramref name="name"/> when known.</summary>
    public void Tensor(object?[]? args, string name, string where)
    {
        if (args is not { Length: >= 4 } || args[0] is not Storage storage || args[1] is not long offset || offset < 0
            || Dimensions(args[2]) is not { } size || Dimensions(args[3]) is not { } stride || size.Length != stride.Length)
            throw Refused($"{where}: tensor {name} has a storage, offset, size or stride that is not a literal as torch.save writes it " +
                          $"(whole numbers >= 0, at most {MaxDimensions} dimensions)");
        // PyBridge allocates the tensor's values; PyTorch views offset + Σ (size_i − 1)·stride_i + 1 of the storage's (0 when empty).
        var values = size.Contains(0) ? 0 : size.Aggregate(1L, Times);
        var extent = values == 0 ? 0 : Add(offset, size.Zip(stride, (n, s) => Times(n - 1, s)).Aggregate(1L, Add));
        if (Math.Max(values, extent) > storage.Numel)
            throw Refused($"tensor {name} (size [{Dims(size)}], stride [{Dims(stride)}], offset {N(offset)}) needs {N(Math.Max(values, extent))} " +
                          $"{storage.DType} values but storage {OneLine.Printable(storage.Key)} holds {N(storage.Numel)}");
        tensorBytes = Add(tensorBytes, Times(values, storage.ElementSize));
        if (tensorBytes > Times(storageBytes, CopyLimit))
            throw Refused($"its tensors up to {name} take {N(tensorBytes)} bytes, more than {CopyLimit} times the {N(storageBytes)} bytes of the storages " +
                          "they use (each tensor is a copy of its storage)");
    }

    /// <summary>The bytes an entry yields: its length, or, when it claims more than its compressed bytes, what it decompresses to.</summary>
    private long Measure(ZipArchiveEntry entry)
    {
        if (measured.TryGetValue(entry, out var bytes)) return bytes;
        bytes = entry.Length;
        if (entry.Length > entry.CompressedLength)
            try
            {
                using var data = entry.Open();
                var buffer = new byte[81920];
                bytes = 0;
                for (int read; bytes < entry.Length && (read = data.Read(buffer)) > 0;) bytes += read;
                bytes = Math.Min(bytes, entry.Length);
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
            {
                throw Refused($"{OneLine.Printable(entry.FullName)} cannot be read ({e.Message.Split('\n')[0]})");
            }
        measured[entry] = bytes;
        storageBytes = Add(storageBytes, bytes);
        return bytes;
    }

    /// <summary>A tuple of whole numbers >= 0, at most <see cref="MaxDimensions"/> of them (so a call costs little however often it is made), or null.</summary>
    private static long[]? Dimensions(object? tuple) =>
        tuple is object?[] { Length: <= MaxDimensions } items && items.All(i => i is >= 0L) ? items.Cast<long>().ToArray() : null;

    private static string Dims(long[] values) => string.Join(", ", values.Take(8).Select(N)) + (values.Length > 8 ? ", …" : "");

    // Sizes and counts are never negative here; a sum or product past long.MaxValue stays there, above any entry.
    private static long Add(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;

    private static long Times(long a, long b) => a != 0 && b > long.MaxValue / a ? long.MaxValue : a * b;

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private InvalidDataException Refused(string what) => new($"{path}: {what}: the file is damaged or crafted; refusing it before allocating");
}
