using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Modeling;

/// <summary>
/// The safetensors format, exactly: an 8-byte little-endian header length N, N bytes of JSON
/// ({name: {dtype, shape, data_offsets: [begin, end]}}, optional "__metadata__"), then the raw
/// little-endian tensor bytes; offsets are relative to the end of the header. Every offset is checked
/// against the file, the shape and the dtype before any data is read.
/// </summary>
public static class SafeTensors
{
    private static readonly Dictionary<string, ScalarType> DTypes = new()
    {
        ["F32"] = ScalarType.Float32, ["F16"] = ScalarType.Float16, ["BF16"] = ScalarType.BFloat16, ["F64"] = ScalarType.Float64,
        ["I64"] = ScalarType.Int64, ["I32"] = ScalarType.Int32, ["I16"] = ScalarType.Int16, ["I8"] = ScalarType.Int8,
        ["U8"] = ScalarType.Byte, ["BOOL"] = ScalarType.Bool,
    };

    private static string Name(ScalarType type) => DTypes.First(kv => kv.Value == type).Key;

    /// <summary>One tensor as the header describes it; Begin and End are byte offsets into the data section.</summary>
    public sealed record Entry(string Name, ScalarType Type, long[] Shape, long Begin, long End);

    // The format's own limit (Hugging Face's safetensors refuses larger headers): a bigger one is damage, not a model.
    private const ulong MaxHeaderBytes = 100_000_000;

    /// <summary>The "__metadata__" strings of a .safetensors file (without reading its tensors).</summary>
    public static Dictionary<string, string> ReadMetadata(string path) => Metadata(ReadHeaderJson(path, out _), path);

    /// <summary>The tensors' names, dtypes and shapes, checked against the file's size, without reading their data.</summary>
    public static IReadOnlyList<Entry> ReadHeader(string path)
    {
        var header = ReadHeaderJson(path, out var dataLength);
        return Entries(header, dataLength, path);
    }

    private static JsonObject ReadHeaderJson(string path, out long dataLength)
    {
        using var file = File.OpenRead(path);
        Span<byte> length = stackalloc byte[8];
        if (file.Length < 8) throw new InvalidDataException($"{path}: {file.Length} bytes is too short for a safetensors file (8-byte header length missing).");
        file.ReadExactly(length);
        var headerLength = CheckHeaderLength(BinaryPrimitives.ReadUInt64LittleEndian(length), file.Length, path);
        var header = new byte[headerLength];
        file.ReadExactly(header);
        dataLength = file.Length - 8 - headerLength;
        return ParseHeader(header, path);
    }

    private static int CheckHeaderLength(ulong headerLength, long fileLength, string source)
    {
        if (headerLength > (ulong)(fileLength - 8))
            throw new InvalidDataException($"{source}: header length {headerLength} runs past the end of the file ({fileLength} bytes); the file is truncated or not safetensors.");
        if (headerLength > MaxHeaderBytes)
            throw new InvalidDataException($"{source}: header length {headerLength} is over the format's limit of {MaxHeaderBytes} bytes; the file is damaged or not safetensors.");
        return (int)headerLength;
    }

    private static JsonObject ParseHeader(ReadOnlySpan<byte> header, string source)
    {
        string text;
        try { text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(header); }
        catch (DecoderFallbackException e) { throw new InvalidDataException($"{source}: the header is not UTF-8 ({e.Message}).", e); }
        return JsonFile.ParseObject(text, $"{source}'s header", "the file is damaged or not safetensors");
    }

    private static Dictionary<string, string> Metadata(JsonObject header, string source) =>
        header["__metadata__"] switch
        {
            null => new Dictionary<string, string>(),
            JsonObject meta => meta.ToDictionary(kv => kv.Key, kv => kv.Value is null ? "" : JsonFile.String(kv.Value, $"__metadata__.{kv.Key}", source)),
            var other => throw JsonFile.WrongType(source, "__metadata__", other, "an object of strings"),
        };

    /// <summary>Every tensor of the header, each checked: a known dtype, a shape, offsets inside the data section that match both, no overlaps.</summary>
    private static List<Entry> Entries(JsonObject header, long dataLength, string source)
    {
        var entries = new List<Entry>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__") continue;
            var entry = node as JsonObject ?? throw new InvalidDataException($"{source}: entry '{name}' is not an object.");
            var dtypeName = entry["dtype"] is { } dtypeNode ? JsonFile.String(dtypeNode, $"{name}.dtype", source) : throw new InvalidDataException($"{source}: tensor '{name}' has no dtype.");
            if (!DTypes.TryGetValue(dtypeName, out var type))
                throw new InvalidDataException($"{source}: tensor '{name}' has unsupported dtype {dtypeName} (supported: {string.Join(", ", DTypes.Keys)}).");
            var shape = Longs(entry["shape"], $"{name}.shape", source) ?? throw new InvalidDataException($"{source}: tensor '{name}' has no shape.");
            var offsets = Longs(entry["data_offsets"], $"{name}.data_offsets", source);
            if (offsets is not { Length: 2 }) throw new InvalidDataException($"{source}: tensor '{name}' needs data_offsets [begin, end].");
            var (begin, end) = (offsets[0], offsets[1]);
            if (begin < 0 || end < begin || end > dataLength)
                throw new InvalidDataException($"{source}: tensor '{name}' data_offsets [{begin}, {end}] lie outside the data section ({dataLength} bytes).");
            if (shape.Any(d => d < 0)) throw new InvalidDataException($"{source}: tensor '{name}' has a negative dimension in shape {Shapes.Format(shape)}.");
            // The element count is bounded by the bytes it spans, so a huge dimension is refused before the product can overflow.
            long count = shape.Contains(0) ? 0 : 1;
            foreach (var d in shape)
            {
                if (count > 0 && count > (end - begin) / d)
                    throw new InvalidDataException($"{source}: tensor '{name}' shape {Shapes.Format(shape)} does not fit its {end - begin} bytes.");
                count *= d;
            }
            var expected = count * type.ElementSize();
            if (end - begin != expected)
                throw new InvalidDataException($"{source}: tensor '{name}' spans {end - begin} bytes but shape {Shapes.Format(shape)} of {dtypeName} needs {expected}.");
            entries.Add(new Entry(name, type, shape, begin, end));
        }
        var sorted = entries.OrderBy(e => e.Begin).ToList();
        for (var k = 1; k < sorted.Count; k++)
            if (sorted[k].Begin < sorted[k - 1].End)
                throw new InvalidDataException($"{source}: tensors '{sorted[k - 1].Name}' and '{sorted[k].Name}' overlap.");
        return entries;
    }

    private static long[]? Longs(JsonNode? node, string key, string source) => node switch
    {
        null => null,
        JsonArray array => array.Select(d => d is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var x) ? x
            : throw JsonFile.WrongType(source, key, d, "an array of whole numbers")).ToArray(),
        _ => throw JsonFile.WrongType(source, key, node, "an array of whole numbers"),
    };

    /// <summary>Reads every tensor of a .safetensors file into CPU tensors (outside any dispose scope).</summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No such file: {path}", path);
        var bytes = File.ReadAllBytes(path);
        return Parse(bytes, path);
    }

    /// <summary>Parses safetensors bytes; <paramref name="source"/> names them in error messages.</summary>
    public static Dictionary<string, Tensor> Parse(byte[] bytes, string source)
    {
        TorchRuntime.EnsureLoaded();
        if (bytes.Length < 8) throw new InvalidDataException($"{source}: {bytes.Length} bytes is too short for a safetensors file (8-byte header length missing).");
        var headerLength = CheckHeaderLength(BinaryPrimitives.ReadUInt64LittleEndian(bytes), bytes.Length, source);
        var entries = Entries(ParseHeader(bytes.AsSpan(8, headerLength), source), bytes.Length - 8 - headerLength, source);
        var dataStart = 8 + headerLength;
        var result = new Dictionary<string, Tensor>();
        try
        {
            foreach (var (name, type, shape, begin, end) in entries)
                result[name] = FromBytes(bytes.AsSpan((int)(dataStart + begin), (int)(end - begin)), type, shape);
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        return result;
    }

    private static Tensor FromBytes(ReadOnlySpan<byte> data, ScalarType type, long[] shape)
    {
        var tensor = empty(shape, type).DetachFromDisposeScope();
        if (data.Length > 0) data.CopyTo(tensor.bytes); // raw little-endian bytes: every dtype, half and bfloat16 too
        return tensor;
    }

    /// <summary>
    /// Writes tensors (any device) as safetensors, names sorted, "__metadata__" {"format":"pt"} first
    /// and the header padded with spaces to a multiple of 8, as Hugging Face writes them. Atomic.
    /// </summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var names = tensors.Keys.OrderBy(n => n, StringComparer.Ordinal).ToList();
        var meta = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["format"] = "pt" };
        if (metadata is not null) foreach (var (key, value) in metadata) meta[key] = value;
        var header = new StringBuilder("{\"__metadata__\":").Append(JsonSerializer.Serialize(meta));
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var name in names)
        {
            var t = tensors[name];
            var bytes = ToBytes(t);
            header.Append(',').Append(JsonSerializer.Serialize(name)).Append(":{\"dtype\":\"").Append(Name(t.dtype))
                  .Append("\",\"shape\":[").Append(string.Join(',', t.shape)).Append("],\"data_offsets\":[")
                  .Append(offset).Append(',').Append(offset + bytes.Length).Append("]}");
            offset += bytes.Length;
            blobs.Add(bytes);
        }
        header.Append('}');
        while ((header.Length + 8) % 8 != 0 || Encoding.UTF8.GetByteCount(header.ToString()) % 8 != 0) header.Append(' ');
        var headerBytes = Encoding.UTF8.GetBytes(header.ToString());
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)headerBytes.Length);
            stream.Write(length);
            stream.Write(headerBytes);
            foreach (var blob in blobs) stream.Write(blob);
        });
    }

    private static byte[] ToBytes(Tensor t)
    {
        using var scope = NewDisposeScope();
        var cpu = t.detach().cpu().contiguous();
        return cpu.numel() == 0 ? [] : cpu.bytes.ToArray();
    }
}
