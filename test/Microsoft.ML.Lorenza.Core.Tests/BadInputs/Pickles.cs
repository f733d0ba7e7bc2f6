using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Microsoft.ML.Lorenza.Tests.BadInputs;

/// <summary>
/// Pickles written opcode by opcode (the opcodes of CPython's Lib/pickle.py), and torch.save archives around them:
/// hostile and damaged pytorch_model.bin files without Python. Each hostile pickle is a dict whose one entry would,
/// under Python's pickle, call a function with arguments of the file's choosing.
/// </summary>
public sealed class Pickles
{
    private readonly List<byte> bytes = [];

    /// <summary>Raw opcodes and bytes.</summary>
    public Pickles Op(params byte[] codes)
    {
        bytes.AddRange(codes);
        return this;
    }

    public Pickles Op(char code) => Op((byte)code);

    /// <summary>GLOBAL: module and name on lines of their own.</summary>
    public Pickles Global(string module, string name) => Op('c').Op(Encoding.UTF8.GetBytes($"{module}\n{name}\n"));

    /// <summary>INST: the class named inline, called with what lies above the last MARK.</summary>
    public Pickles Inst(string module, string name) => Op('i').Op(Encoding.UTF8.GetBytes($"{module}\n{name}\n"));

    /// <summary>BINUNICODE: a string with a 4-byte length.</summary>
    public Pickles Str(string text)
    {
        var utf8 = Encoding.UTF8.GetBytes(text);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, utf8.Length);
        return Op('X').Op(length.ToArray()).Op(utf8);
    }

    /// <summary>SHORT_BINUNICODE then MEMOIZE, as protocol 4 writes a string.</summary>
    public Pickles ShortStr(string text)
    {
        var utf8 = Encoding.UTF8.GetBytes(text);
        return Op(0x8c, (byte)utf8.Length).Op(utf8).Op(0x94);
    }

    /// <summary>A whole number as Python's pickler writes it: BININT, or LONG1 beyond 32 bits.</summary>
    public Pickles Int(long value)
    {
        if (value is >= int.MinValue and <= int.MaxValue) return Op('J').Op(BitConverter.GetBytes((int)value));
        return Op(0x8a, 8).Op(BitConverter.GetBytes(value));
    }

    /// <summary>A tuple of whole numbers: MARK … TUPLE.</summary>
    public Pickles Ints(IEnumerable<long> values)
    {
        Op(Mark);
        foreach (var v in values) Int(v);
        return Op('t');
    }

    public byte[] ToArray() => [.. bytes];

    public const byte Proto = 0x80, Mark = (byte)'(', Stop = (byte)'.', EmptyDict = (byte)'}', SetItems = (byte)'u', SetItem = (byte)'s',
        Reduce = (byte)'R', NewObj = 0x81, Tuple1 = 0x85, EmptyTuple = (byte)')', StackGlobal = 0x93, Memoize = 0x94, BinPut = (byte)'q',
        BinGet = (byte)'h', Pop = (byte)'0', PopMark = (byte)'1', Ext1 = 0x82, BinPersId = (byte)'Q', NewFalse = 0x89;

    /// <summary>One tensor (weight) of <see cref="StateDict"/>: its storage's persistent id and _rebuild_tensor_v2's arguments.</summary>
    public sealed record Weight(string Name, long Numel, long[] Size, long[] Stride, long Offset = 0, string Key = "0", string Storage = "FloatStorage");

    /// <summary>
    /// A state dict in protocol 2 as torch.save writes it: {name: _rebuild_tensor_v2(('storage', torch.&lt;Storage&gt;,
    /// key, 'cpu', numel), offset, size, stride, False, OrderedDict())}, for the archive's data/&lt;key&gt; entries.
    /// </summary>
    public static byte[] StateDict(params Weight[] tensors)
    {
        var pickle = new Pickles().Op(Proto, 2, EmptyDict, Mark);
        foreach (var t in tensors)
            pickle.Str(t.Name).Global("torch._utils", "_rebuild_tensor_v2").Op(Mark)
                .Op(Mark).Str("storage").Global("torch", t.Storage).Str(t.Key).Str("cpu").Int(t.Numel).Op((byte)'t', BinPersId)
                .Int(t.Offset).Ints(t.Size).Ints(t.Stride).Op(NewFalse).Global("collections", "OrderedDict").Op(EmptyTuple, Reduce)
                .Op((byte)'t', Reduce);
        return pickle.Op(SetItems, Stop).ToArray();
    }

    /// <summary>{'hostile': module.name(argument)} in protocol 2: GLOBAL, then REDUCE on a one-tuple.</summary>
    public static byte[] Calling(string module, string name, string argument) =>
        new Pickles().Op(Proto, 2, EmptyDict).Str("hostile").Global(module, name).Str(argument).Op(Tuple1, Reduce, SetItem, Stop).ToArray();

    /// <summary>{'hostile': module.name(argument)} in protocol 4: FRAME, SHORT_BINUNICODE + MEMOIZE and STACK_GLOBAL, as Python writes it.</summary>
    public static byte[] CallingByStackGlobal(string module, string name, string argument)
    {
        var body = new Pickles().Op(EmptyDict, Memoize).ShortStr("hostile").ShortStr(module).ShortStr(name).Op(StackGlobal, Memoize)
            .ShortStr(argument).Op(Tuple1, Memoize, Reduce, Memoize, SetItem, Stop).ToArray();
        var frame = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(frame, body.Length);
        return new Pickles().Op(Proto, 4, 0x95).Op(frame).Op(body).ToArray();
    }

    /// <summary>
    /// A torch.save archive (PyTorch 1.6 and later): &lt;archive&gt;/data.pkl holding <paramref name="pickle"/>, a
    /// version record and one storage, then <paramref name="more"/> entries, all stored uncompressed as torch.save does.
    /// </summary>
    public static byte[] TorchSave(byte[] pickle, params (string Name, byte[] Bytes)[] more) =>
        Archive(pickle, [("archive/data/0", new byte[16]), .. more]);

    /// <summary>A torch.save archive: &lt;archive&gt;/data.pkl holding <paramref name="pickle"/>, a version record and <paramref name="entries"/>.</summary>
    public static byte[] Archive(byte[] pickle, params (string Name, byte[] Bytes)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in new[] { ("archive/data.pkl", pickle), ("archive/version", "3\n"u8.ToArray()) }.Concat(entries))
            {
                using var entry = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
                entry.Write(content);
            }
        }
        return buffer.ToArray();
    }

    /// <summary>The data.pkl of a torch.save archive.</summary>
    public static byte[] DataPkl(string torchSave)
    {
        using var zip = ZipFile.OpenRead(torchSave);
        using var entry = zip.Entries.Single(e => e.Name == "data.pkl").Open();
        using var copy = new MemoryStream();
        entry.CopyTo(copy);
        return copy.ToArray();
    }
}
