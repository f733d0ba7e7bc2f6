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
/// strings on the stack, so the stack, the marks and the memo are followed (strings, whole numbers, tuples, globals and
/// storages; any other value as unknown); a name that cannot be known that way, and the copyreg extension codes
/// (EXT1/2/4), are refused. The persistent ids and _rebuild_tensor calls met on the way are bounded by the archive's
/// bytes (<see cref="StorageBounds"/>), so that the unpickler allocates nothing the file does not hold. Truncated or
/// malformed pickles end in an <see cref="InvalidDataException"/>: every step reads at least one byte, and no length in
/// the file sizes an allocation.
/// </summary>
internal static class PickleAllowList
{
    /// <summary>A global on the scan's stack: what GLOBAL, STACK_GLOBAL and INST name.</summary>
    public sealed record Global(string Name);

    /// <summary>The globals (module.name) a state dict's pickle may name: torch.save's tensors and OrderedDicts.</summary>
    public static IReadOnlySet<string> Globals { get; } = new HashSet<string>(
    [
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
        // The storage types in the persistent ids (torch.cuda.… in files saved from a GPU before PyTorch 1.12).
        .. StorageBounds.Elements.Keys.Select(t => $"torch.{t}Storage"), .. StorageBounds.Elements.Keys.Select(t => $"torch.cuda.{t}Storage"),
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
            var bounds = new StorageBounds(zip, file.Length, path);
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
                new Scan(pickle, path, entry.FullName, bounds).Run();
            }
        }
        file.Seek(0, SeekOrigin.Begin);
    }

    /// <summary>
    /// Reads one pickle up to its STOP, without an archive to bound its storages by; <paramref name="entry"/> names it
    /// inside <paramref name="path"/> in messages.
    /// </summary>
    public static void Check(Stream pickle, string path, string entry) => new Scan(pickle, path, entry, null).Run();


    private static InvalidDataException NotReadable(string path, string why, Exception? inner = null) =>
        new($"{path} is not a readable torch.save state dict ({why}); save the model as model.safetensors instead.", inner);

    private sealed class Scan(Stream input, string path, string entry, StorageBounds? bounds)
    {
        private const int NameLength = 1024; // longer strings and lines are never a module, a name or a number here
        // A string, a whole number (long), a tuple (object?[]), a Global or a storage; null for any other value.
        private readonly List<object?> stack = [];
        private readonly Stack<int> marks = new();
        private readonly Dictionary<long, object?> memo = [];
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
                    case 'N' or '\x88' or '\x89' or ']' or '}' or '\x8f' or '\x97': Push(null); break; // None, True, False, [], {}, set(), NEXT_BUFFER
                    case ')': Push(Array.Empty<object?>()); break; // EMPTY_TUPLE
                    case 'K': Push((long)Byte()); break; // BININT1
                    case 'M': Push((long)Byte() | (long)Byte() << 8); break; // BININT2
                    case 'J': Push((long)(int)(uint)Length(4, at)); break; // BININT
                    case 'G': Skip(8); Push(null); break; // BINFLOAT
                    case '\x8a': Push(Long1(Byte())); break; // LONG1
                    case '\x8b': Skip(Length(4, at)); Push(null); break; // LONG4
                    case 'I' or 'L': Push(Integer(op)); break; // INT, LONG
                    case 'F' or 'S' or 'V': Line(); Push(null); break; // FLOAT, STRING, UNICODE
                    case 'P': Push(Load(Line(), at)); break; // PERSID
                    case 'U': PushString(Byte(), Encoding.Latin1); break; // SHORT_BINSTRING
                    case 'T': PushString(Length(4, at), Encoding.Latin1); break; // BINSTRING
                    case '\x8c': PushString(Byte(), Encoding.UTF8); break; // SHORT_BINUNICODE
                    case 'X': PushString(Length(4, at), Encoding.UTF8); break; // BINUNICODE
                    case '\x8d': PushString(Length(8, at), Encoding.UTF8); break; // BINUNICODE8
                    case 'C': Skip(Byte()); Push(null); break; // SHORT_BINBYTES
                    case 'B': Skip(Length(4, at)); Push(null); break; // BINBYTES
                    case '\x8e' or '\x96': Skip(Length(8, at)); Push(null); break; // BINBYTES8, BYTEARRAY8
                    case 'c': Push(Allow(Line(), Line())); break; // GLOBAL
                    case 'i': Call(Allow(Line(), Line()), PopMark(at), at); break; // INST
                    case '\x93': // STACK_GLOBAL
                        {
                            var (name, module) = (Pop(at), Pop(at));
                            if (module is not string m || name is not string n) throw Refused($"a function whose name it computes (STACK_GLOBAL at byte {at})");
                            Push(Allow(m, n));
                            break;
                        }
                    case '\x82' or '\x83' or '\x84': throw Refused($"a function through copyreg's extension registry (EXT at byte {at})");
                    case 'Q': Push(Load(Pop(at), at)); break; // BINPERSID
                    case '\x98': Pop(at); Push(null); break; // READONLY_BUFFER
                    case 'R' or '\x81': { var args = Pop(at); Call(Pop(at), args, at); break; } // REDUCE, NEWOBJ
                    case '\x92': { Pop(at); var args = Pop(at); Call(Pop(at), args, at); break; } // NEWOBJ_EX (its kwargs, then args)
                    case '\x85': Push(Tuple(1, at)); break; // TUPLE1
                    case '\x86': Push(Tuple(2, at)); break; // TUPLE2
                    case '\x87': Push(Tuple(3, at)); break; // TUPLE3
                    case 't': Push(PopMark(at)); break; // TUPLE
                    case 'o': // OBJ: the callable, then its arguments, above the mark
                        {
                            var items = PopMark(at);
                            if (items.Length == 0) throw Damaged("an opcode with nothing on the stack to use", at);
                            Call(items[0], items[1..], at);
                            break;
                        }
                    case 'l' or 'd' or '\x91': PopMark(at); Push(null); break; // LIST, DICT, FROZENSET
                    case 'b' or 'a': Pop(at); Top(at); break; // BUILD, APPEND
                    case 's': Pop(at); Pop(at); Top(at); break; // SETITEM
                    case 'e' or 'u' or '\x90': PopMark(at); Top(at); break; // APPENDS, SETITEMS, ADDITEMS
                    case '0': if (stack.Count == Floor && marks.Count > 0) PopMark(at); else Pop(at); break; // POP (a mark too, as CPython)
                    case '1': PopMark(at); break; // POP_MARK
                    case '2': Push(Top(at)); break; // DUP
                    case 'p': memo[Index(at)] = Top(at); break; // PUT
                    case 'q': memo[Byte()] = Top(at); break; // BINPUT
                    case 'r': memo[Length(4, at)] = Top(at); break; // LONG_BINPUT
                    case '\x94': memo[memo.Count] = Top(at); break; // MEMOIZE
                    case 'g': Push(Memo(Index(at), at)); break; // GET
                    case 'h': Push(Memo(Byte(), at)); break; // BINGET
                    case 'j': Push(Memo(Length(4, at), at)); break; // LONG_BINGET
                    default: throw Damaged($"unknown opcode 0x{op:x2}", at);
                }
            }
        }

        private Global Allow(string module, string name)
        {
            var global = $"{module}.{name}";
            return Globals.Contains(global) ? new Global(global) : throw Refused(OneLine.Printable(global));
        }

        /// <summary>A persistent id: a storage, bounded by the archive's bytes (nothing to bound it by without one).</summary>
        private StorageBounds.Storage? Load(object? pid, long at) => bounds?.Load(pid, $"{entry} byte {at}");

        /// <summary>REDUCE, NEWOBJ, OBJ, INST: a call. The unpickler allocates a tensor for one of _rebuild_tensor, which is bounded first.</summary>
        private void Call(object? callable, object? args, long at)
        {
            if (bounds is not null && callable is Global { Name: var global } && StorageBounds.Rebuilds(global))
                bounds.Tensor(args as object?[], TensorName(), $"{entry} byte {at}");
            Push(null);
        }

        /// <summary>The tensor's key in its dict: the string just below the call, or below a _rebuild_parameter around it.</summary>
        private string TensorName() =>
            Enumerable.Range(1, Math.Min(3, stack.Count)).Select(i => stack[^i]).OfType<string>().Select(s => $"'{OneLine.Printable(s)}'").FirstOrDefault() ?? "(unnamed)";

        private InvalidDataException Refused(string what) =>
            new($"{path}'s pickle calls {what}, which a state dict never does: refusing it (nothing was run); use model.safetensors or a trusted file.");

        private InvalidDataException Damaged(string what, long at) => NotReadable(path, $"{entry}: {what} at byte {at}");

        // The stack above the innermost mark is the one an opcode may use, as CPython's unpickler keeps it.
        private int Floor => marks.Count > 0 ? marks.Peek() : 0;

        private void Push(object? value) => stack.Add(value);

        private object? Top(long at) => stack.Count > Floor ? stack[^1] : throw Damaged("an opcode with nothing on the stack to use", at);

        private object? Pop(long at)
        {
            var top = Top(at);
            stack.RemoveAt(stack.Count - 1);
            return top;
        }

        /// <summary>Removes the innermost mark and what lies above it, which it returns.</summary>
        private object?[] PopMark(long at)
        {
            if (marks.Count == 0) throw Damaged("an opcode that needs a MARK with none set", at);
            var floor = marks.Pop();
            var items = stack.GetRange(floor, stack.Count - floor).ToArray();
            stack.RemoveRange(floor, items.Length);
            return items;
        }

        private object?[] Tuple(int count, long at)
        {
            var items = new object?[count];
            for (var i = count - 1; i >= 0; i--) items[i] = Pop(at);
            return items;
        }

        private object? Memo(long index, long at) =>
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
        private string Line() => Line(out _);

        private string Line(out bool whole)
        {
            var text = new StringBuilder();
            whole = true;
            for (var b = Byte(); b != '\n'; b = Byte())
                if (text.Length < NameLength) text.Append((char)b);
                else whole = false;
            return text.ToString();
        }

        /// <summary>PUT and GET's memo index; one that is not a plain number (or one too long to read whole) is damage.</summary>
        private long Index(long at)
        {
            var line = Line(out var whole);
            return whole && long.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : throw Damaged($"the memo index '{OneLine.Printable(line)}'", at);
        }

        /// <summary>INT and LONG: a decimal number (INT's 00 and 01 are False and True), or null.</summary>
        private long? Integer(int op)
        {
            var line = Line(out var whole);
            if (op == 'L' && line.EndsWith('L')) line = line[..^1];
            return whole && !(op == 'I' && line is "00" or "01")
                   && long.TryParse(line, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : null;
        }

        /// <summary>LONG1: a little-endian two's-complement number of up to 8 bytes; a longer one is read past (null).</summary>
        private long? Long1(int length)
        {
            ulong value = 0;
            for (var i = 0; i < length; i++)
            {
                var b = (ulong)Byte();
                if (i < 8) value |= b << (8 * i);
            }
            if (length > 8) return null;
            if (length is > 0 and < 8 && (value >> (8 * length - 1) & 1) == 1) value |= ulong.MaxValue << (8 * length);
            return (long)value;
        }
    }
}
