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

    public byte[] ToArray() => [.. bytes];

    public const byte Proto = 0x80, Mark = (byte)'(', Stop = (byte)'.', EmptyDict = (byte)'}', SetItems = (byte)'u', SetItem = (byte)'s',
        Reduce = (byte)'R', NewObj = 0x81, Tuple1 = 0x85, EmptyTuple = (byte)')', StackGlobal = 0x93, Memoize = 0x94, BinPut = (byte)'q',
        BinGet = (byte)'h', Pop = (byte)'0', PopMark = (byte)'1', Ext1 = 0x82;

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
    public static byte[] TorchSave(byte[] pickle, params (string Name, byte[] Bytes)[] more)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in new[] { ("archive/data.pkl", pickle), ("archive/version", "3\n"u8.ToArray()), ("archive/data/0", new byte[16]) }.Concat(more))
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
