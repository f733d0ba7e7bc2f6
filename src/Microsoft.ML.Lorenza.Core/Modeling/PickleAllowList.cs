using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Microsoft.ML.Lorenza.Modeling;

/// <summary>
/// Reads the opcodes of a torch.save file's pickles without building anything, before it is unpickled, and refuses
/// one that names a global a state dict never needs (os.system, builtins.eval, subprocess.Popen, …): unpickling calls
/// such a global with arguments of the file's choosing. The allow-list is the part of PyTorch's own
/// <c>torch.load(weights_only=True)</c> list (torch/_weights_only_unpickler.py) that a state dict of dense tensors uses, so
/// PyTorch refuses whatever is refused here. GLOBAL and INST name their global inline; STACK_GLOBAL takes it from two
/// strings on the stack, so the stack, the marks and the memo are followed (strings only); a name that cannot be known
/// that way, and the copyreg extension codes (EXT1/2/4), are refused. Truncated or malformed pickles end in an
/// <see cref="InvalidDataException"/>: every step reads at least one byte, and no length in the file sizes an allocation.
/// </summary>
internal static class PickleAllowList
{
    private static readonly string[] StorageTypes =
        ["Double", "Float", "Half", "BFloat16", "Long", "Int", "Short", "Char", "Byte", "Bool", "ComplexDouble", "ComplexFloat"];

    /// <summary>The globals (module.name) a state dict's pickle may name: torch.save's tensors and OrderedDicts.</summary>
    public static IReadOnlySet<string> Globals { get; } = new HashSet<string>(
    [
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
        // The storage types in the persistent ids (torch.cuda.… in files saved from a GPU before PyTorch 1.12).
        .. StorageTypes.Select(t => $"torch.{t}Storage"), .. StorageTypes.Select(t => $"torch.cuda.{t}Storage"),
    ], StringComparer.Ordinal);

    /// <summary>
    /// Checks every pickle of a torch.save zip archive (PyTorch 1.6 and later; &lt;archive&gt;/data.pkl); refuses other
    /// files, the legacy format included, which the unpickler does not read.
    /// </summary>
    public static void CheckFile(Stream file, string path)
    {
        Span<byte> signature = stackalloc byte[4];
        if (file.ReadAtLeast(signature, 4, throwOnEndOfStream: false) < 4 || !signature.SequenceEqual("PK\x03\x04"u8))
            throw NotReadable(path, "not a zip archive: torch.save's legacy format, before PyTorch 1.6, is not read");
        file.Seek(0, SeekOrigin.Begin);
        ZipArchive zip;
        try { zip = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true); }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException) { throw NotReadable(path, $"a damaged zip archive: {e.Message.Split('\n')[0]}", e); }
        using (zip)
        {
            // Every pickle, and whichever entry TorchSharp.PyBridge unpickles: the first whose name ends with data.pkl
            // in the current culture's comparison, as it looks for it.
            var pickles = zip.Entries.Where(e => e.FullName.EndsWith(".pkl", StringComparison.Ordinal)
                                                 || e.Name.EndsWith("data.pkl", StringComparison.CurrentCulture)).ToList();
            if (pickles.Count == 0) throw NotReadable(path, "the archive has no data.pkl");
            foreach (var entry in pickles)
            {
                Stream opened;
                try { opened = entry.Open(); }
                catch (Exception e) when (e is InvalidDataException or EndOfStreamException) { throw NotReadable(path, $"{entry.FullName} cannot be read: {e.Message.Split('\n')[0]}", e); }
                using var pickle = new BufferedStream(opened);
                Check(pickle, path, entry.FullName);
            }
        }
        file.Seek(0, SeekOrigin.Begin);
    }

    /// <summary>Reads one pickle up to its STOP; <paramref name="entry"/> names it inside <paramref name="path"/> in messages.</summary>
    public static void Check(Stream pickle, string path, string entry) => new Scan(pickle, path, entry).Run();

    private static InvalidDataException NotReadable(string path, string why, Exception? inner = null) =>
        new($"{path} is not a readable torch.save state dict ({why}); save the model as model.safetensors instead.", inner);

    private sealed class Scan(Stream input, string path, string entry)
    {
        private const int NameLength = 1024; // longer strings and lines are never a module or a name here
        private readonly List<string?> stack = []; // a known string, or null for any other value
        private readonly Stack<int> marks = new();
        private readonly Dictionary<long, string?> memo = [];
        private long position;

        public void Run()
        {
            while (true)
            {
                var at = position;
                var op = Byte();
                switch ((char)op)
                {
                    case '.': return; // STOP
                    case '\x80': Skip(1); break; // PROTO
                    case '\x95': Skip(8); break; // FRAME (a length: framing only)
                    case '(': marks.Push(stack.Count); break; // MARK
                    case 'N' or '\x88' or '\x89' or ')' or ']' or '}' or '\x8f' or '\x97': Push(null); break; // None, True, False, (), [], {}, set(), NEXT_BUFFER
                    case 'K': Skip(1); Push(null); break; // BININT1
                    case 'M': Skip(2); Push(null); break; // BININT2
                    case 'J': Skip(4); Push(null); break; // BININT
                    case 'G': Skip(8); Push(null); break; // BINFLOAT
                    case '\x8a': Skip(Byte()); Push(null); break; // LONG1
                    case '\x8b': Skip(Length(4, at)); Push(null); break; // LONG4
                    case 'I' or 'L' or 'F' or 'S' or 'V' or 'P': Line(); Push(null); break; // INT, LONG, FLOAT, STRING, UNICODE, PERSID
                    case 'U': PushString(Byte(), Encoding.Latin1); break; // SHORT_BINSTRING
                    case 'T': PushString(Length(4, at), Encoding.Latin1); break; // BINSTRING
                    case '\x8c': PushString(Byte(), Encoding.UTF8); break; // SHORT_BINUNICODE
                    case 'X': PushString(Length(4, at), Encoding.UTF8); break; // BINUNICODE
                    case '\x8d': PushString(Length(8, at), Encoding.UTF8); break; // BINUNICODE8
                    case 'C': Skip(Byte()); Push(null); break; // SHORT_BINBYTES
                    case 'B': Skip(Length(4, at)); Push(null); break; // BINBYTES
                    case '\x8e' or '\x96': Skip(Length(8, at)); Push(null); break; // BINBYTES8, BYTEARRAY8
                    case 'c': Allow(Line(), Line()); Push(null); break; // GLOBAL
                    case 'i': Allow(Line(), Line()); PopMark(at); Push(null); break; // INST
                    case '\x93': // STACK_GLOBAL
                        {
                            var (name, module) = (Pop(at), Pop(at));
                            if (module is null || name is null) throw Refused($"a function whose name it computes (STACK_GLOBAL at byte {at})");
                            Allow(module, name);
                            Push(null);
                            break;
                        }
                    case '\x82' or '\x83' or '\x84': throw Refused($"a function through copyreg's extension registry (EXT at byte {at})");
                    case 'Q' or '\x98': Pop(at); Push(null); break; // BINPERSID, READONLY_BUFFER
                    case 'R' or '\x81': Pop(at); Pop(at); Push(null); break; // REDUCE, NEWOBJ
                    case '\x92': Pop(at); Pop(at); Pop(at); Push(null); break; // NEWOBJ_EX
                    case '\x85': Pop(at); Push(null); break; // TUPLE1
                    case '\x86': Pop(at); Pop(at); Push(null); break; // TUPLE2
                    case '\x87': Pop(at); Pop(at); Pop(at); Push(null); break; // TUPLE3
                    case 'o' or 'l' or 't' or 'd' or '\x91': PopMark(at); Push(null); break; // OBJ, LIST, TUPLE, DICT, FROZENSET
                    case 'b' or 'a': Pop(at); Top(at); break; // BUILD, APPEND
                    case 's': Pop(at); Pop(at); Top(at); break; // SETITEM
                    case 'e' or 'u' or '\x90': PopMark(at); Top(at); break; // APPENDS, SETITEMS, ADDITEMS
                    case '0': if (stack.Count == Floor && marks.Count > 0) PopMark(at); else Pop(at); break; // POP (a mark too, as CPython)
                    case '1': PopMark(at); break; // POP_MARK
                    case '2': Push(Top(at)); break; // DUP
                    case 'p': memo[Index(Line(), at)] = Top(at); break; // PUT
                    case 'q': memo[Byte()] = Top(at); break; // BINPUT
                    case 'r': memo[Length(4, at)] = Top(at); break; // LONG_BINPUT
                    case '\x94': memo[memo.Count] = Top(at); break; // MEMOIZE
                    case 'g': Push(Memo(Index(Line(), at), at)); break; // GET
                    case 'h': Push(Memo(Byte(), at)); break; // BINGET
                    case 'j': Push(Memo(Length(4, at), at)); break; // LONG_BINGET
                    default: throw Damaged($"unknown opcode 0x{op:x2}", at);
                }
            }
        }

        private void Allow(string module, string name)
        {
            var global = $"{module}.{name}";
            if (!Globals.Contains(global)) throw Refused(Printable(global));
        }

        private InvalidDataException Refused(string what) =>
            new($"{path}'s pickle calls {what}, which a state dict never does: refusing it (nothing was run); use model.safetensors or a trusted file.");

        private InvalidDataException Damaged(string what, long at) => NotReadable(path, $"{entry}: {what} at byte {at}");

        // The stack above the innermost mark is the one an opcode may use, as CPython's unpickler keeps it.
        private int Floor => marks.Count > 0 ? marks.Peek() : 0;

        private void Push(string? value) => stack.Add(value);

        private string? Top(long at) => stack.Count > Floor ? stack[^1] : throw Damaged("an opcode with nothing on the stack to use", at);

        private string? Pop(long at)
        {
            var top = Top(at);
            stack.RemoveAt(stack.Count - 1);
            return top;
        }

        private void PopMark(long at)
        {
            if (marks.Count == 0) throw Damaged("an opcode that needs a MARK with none set", at);
            var floor = marks.Pop();
            stack.RemoveRange(floor, stack.Count - floor);
        }

        private string? Memo(long index, long at) =>
            memo.TryGetValue(index, out var value) ? value : throw Damaged($"memo entry {index} read before it was written", at);

        private int Byte()
        {
            int b;
            try { b = input.ReadByte(); }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException) { throw Damaged($"the archive entry cannot be read ({e.Message.Split('\n')[0]})", position); }
            if (b < 0) throw Damaged("the pickle ends before its STOP opcode", position);
            position++;
            return b;
        }

        /// <summary>A little-endian length of 4 or 8 bytes; one above what a stream can hold is damage.</summary>
        private long Length(int bytes, long at)
        {
            ulong value = 0;
            for (var i = 0; i < bytes; i++) value |= (ulong)Byte() << (8 * i);
            return value <= long.MaxValue ? (long)value : throw Damaged($"a length of {value} bytes", at);
        }

        private void Skip(long count)
        {
            for (long i = 0; i < count; i++) Byte();
        }

        private void PushString(long length, Encoding encoding)
        {
            if (length > NameLength)
            {
                Skip(length);
                Push(null);
                return;
            }
            var bytes = new byte[length];
            for (var i = 0; i < bytes.Length; i++) bytes[i] = (byte)Byte();
            Push(encoding.GetString(bytes));
        }

        /// <summary>A protocol-0 argument up to its newline: the first <see cref="NameLength"/> characters (Latin-1), the rest read past.</summary>
        private string Line()
        {
            var text = new StringBuilder();
            for (var b = Byte(); b != '\n'; b = Byte())
                if (text.Length < NameLength) text.Append((char)b);
            return text.ToString();
        }

        private long Index(string line, long at) =>
            long.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : throw Damaged($"the memo index '{Printable(line)}'", at);

        private static string Printable(string text) => new(text.Take(200).Select(c => char.IsControl(c) ? '?' : c).ToArray());
    }
}
