using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp.PyBridge;
using static TorchSharp.torch;
using static Microsoft.ML.Lorenza.Tests.BadInputs.Pickles;

namespace Microsoft.ML.Lorenza.Tests.BadInputs;

// pytorch_model.bin files whose pickle would call a function (os.system, eval, subprocess.Popen, …) under Python's
// pickle: refused with one line before anything is unpickled (PickleAllowList), as PyTorch's own
// torch.load(weights_only=True) refuses them; damaged pickles end in an InvalidDataException, and so do storages and
// tensors that claim more than the archive holds (below); real torch.save state dicts still load. Before the check, TorchSharp.PyBridge (Razorvine.Pickle) turned an unknown global into a
// dictionary: a call with arguments failed with its "expected zero arguments for construction of ClassDict (for
// posix.system)", and one without (os.getpid()) loaded silently, the entry dropped.
public sealed partial class HostileFileTests
{
    private const string RefusalTail = ", which a state dict never does: refusing it (nothing was run); use model.safetensors or a trusted file.";
    private string folder = "";

    [TestInitialize]
    public void MakeFolder() => folder = Directory.CreateTempSubdirectory("lorenza-hostile-pickles-").FullName;

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(folder, true);

    private string Marker => Path.Combine(folder, "ran");

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static InvalidDataException Refused(string path)
    {
        var e = Assert.ThrowsExactly<InvalidDataException>(() => Dispose(ModelFolder.LoadPickledStateDict(path)));
        Assert.IsFalse(e.Message.Contains('\n'), $"one line: {e.Message}");
        StringAssert.StartsWith(e.Message, path);
        return e;
    }

    private static void Dispose(Dictionary<string, Tensor> tensors)
    {
        foreach (var t in tensors.Values) t.Dispose();
    }

    /// <summary>Hostile pickles written opcode by opcode: every way a pickle can name what it calls.</summary>
    private IEnumerable<(string What, byte[] File, string Calls)> CraftedHostileFiles()
    {
        var touch = $"touch {Marker}";
        yield return ("GLOBAL + REDUCE", TorchSave(Calling("posix", "system", touch)), "posix.system");
        yield return ("GLOBAL builtins.eval", TorchSave(Calling("builtins", "eval", $"__import__('os').system('{touch}')")), "builtins.eval");
        yield return ("STACK_GLOBAL (protocol 4)", TorchSave(CallingByStackGlobal("builtins", "exec", $"import os; os.system('{touch}')")), "builtins.exec");
        yield return ("STACK_GLOBAL on strings from the memo", TorchSave(new Pickles().Op(Proto, 4, EmptyDict).Str("hostile")
            .Str("subprocess").Op(BinPut, 7).Str("Popen").Op(BinPut, 8).Op(Pop, Pop, BinGet, 7, BinGet, 8, StackGlobal)
            .Str(touch).Op(Tuple1, Reduce, SetItem, Stop).ToArray()), "subprocess.Popen");
        // A tracker of the last two strings would see torch.FloatStorage; the stack below the MARK holds os.system.
        yield return ("STACK_GLOBAL behind a MARK … POP_MARK", TorchSave(new Pickles().Op(Proto, 4, EmptyDict).Str("hostile")
            .Str("os").Str("system").Op(Mark).Str("torch").Str("FloatStorage").Op(PopMark, StackGlobal)
            .Str(touch).Op(Tuple1, Reduce, SetItem, Stop).ToArray()), "os.system");
        yield return ("INST", TorchSave(new Pickles().Op(Proto, 2, EmptyDict).Str("hostile").Op(Mark).Str(touch).Inst("subprocess", "Popen")
            .Op(SetItem, Stop).ToArray()), "subprocess.Popen");
        yield return ("NEWOBJ", TorchSave(new Pickles().Op(Proto, 2, EmptyDict).Str("hostile").Global("subprocess", "Popen").Str(touch)
            .Op(Tuple1, NewObj, SetItem, Stop).ToArray()), "subprocess.Popen");
        // Read silently before: Razorvine.Pickle builds an empty ClassDict for a call without arguments, and the entry was dropped.
        yield return ("a call without arguments", TorchSave(new Pickles().Op(Proto, 2, EmptyDict).Str("hostile").Global("posix", "getpid")
            .Op(EmptyTuple, Reduce, SetItem, Stop).ToArray()), "posix.getpid");
        yield return ("STACK_GLOBAL on a name it computes (a protocol-0 string)", TorchSave(new Pickles().Op(Proto, 4, EmptyDict).Str("hostile")
            .Op('S').Op("'os'\n"u8.ToArray()).Str("system").Op(StackGlobal).Str(touch).Op(Tuple1, Reduce, SetItem, Stop).ToArray()),
            "a function whose name it computes (STACK_GLOBAL at byte ");
        yield return ("EXT1 (copyreg's extension registry)", TorchSave(new Pickles().Op(Proto, 2, EmptyDict).Str("hostile").Op(Ext1, 1)
            .Str(touch).Op(Tuple1, Reduce, SetItem, Stop).ToArray()), "a function through copyreg's extension registry (EXT at byte ");
        // The unpickler reads the first entry whose name ends with data.pkl: every pickle of the archive is checked.
        yield return ("a second data.pkl", TorchSave(new Pickles().Op(Proto, 2, EmptyDict, Stop).ToArray(),
            ("archive/other/data.pkl", Calling("posix", "system", touch))), "posix.system");
    }

    [TestMethod]
    public void EveryWayOfNamingAFunction_IsRefusedBeforeUnpickling()
    {
        var clock = Stopwatch.StartNew();
        var i = 0;
        foreach (var (what, bytes, calls) in CraftedHostileFiles())
        {
            var path = Write($"hostile-{i++}.bin", bytes);
            var e = Refused(path);
            Console.WriteLine($"{what}: {e.Message}");
            StringAssert.StartsWith(e.Message, $"{path}'s pickle calls {calls}", what);
            StringAssert.EndsWith(e.Message, RefusalTail, what);
            Assert.IsFalse(File.Exists(Marker), what);
        }
        // The message reads "calls subprocess.Popen, which a state dict never does" (the table's row).
        StringAssert.Contains(Refused(Write("popen.bin", CraftedHostileFiles().First(c => c.What == "INST").File)).Message,
            "calls subprocess.Popen, which a state dict never does");
        Console.WriteLine($"{i} files in {clock.ElapsedMilliseconds} ms");
    }

    [TestMethod]
    public void TheAllowListIsPyTorchsForStateDicts()
    {
        // What torch.save writes for a state dict; each is in torch.load(weights_only=True)'s list (torch/_weights_only_unpickler.py).
        foreach (var allowed in new[] { "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter", "torch.FloatStorage",
                                        "torch.BFloat16Storage", "torch.HalfStorage", "torch.LongStorage", "torch.cuda.FloatStorage" })
            Assert.Contains(allowed, PickleAllowList.Globals);
        foreach (var refused in new[] { "posix.system", "os.system", "builtins.eval", "builtins.exec", "__builtin__.eval", "subprocess.Popen", "builtins.getattr",
                                        "torch.storage._load_from_bytes", "torch.load", "torch.Tensor", "collections.defaultdict", "numpy.core.multiarray._reconstruct" })
            Assert.DoesNotContain(refused, PickleAllowList.Globals);
        Assert.HasCount(29, PickleAllowList.Globals);
    }

    [TestMethod]
    public void DamagedPickles_EndInInvalidDataException_NeverAHang()
    {
        var clock = Stopwatch.StartNew();
        // A real state dict's pickle, as TorchSharp.PyBridge writes it: every prefix of it is refused, as the pickle ends before STOP.
        var good = Path.Combine(folder, "good.bin");
        using (var weights = ones(3, 2))
        using (var bias = zeros(3))
            PyTorchPickler.PickleStateDict(good, new Dictionary<string, Tensor> { ["dense.weight"] = weights, ["dense.bias"] = bias });
        Dispose(ModelFolder.LoadPickledStateDict(good));
        var pickle = DataPkl(good);
        (string, byte[])[] storages = [("archive/data/0", new byte[6 * 4]), ("archive/data/1", new byte[3 * 4])];
        for (var length = 0; length < pickle.Length; length++)
        {
            var e = Refused(Write("cut.bin", Archive(pickle[..length], storages)));
            StringAssert.Contains(e.Message, "is not a readable torch.save state dict (archive/data.pkl: ", $"cut at {length}");
        }

        var damaged = new (string What, byte[] File, string Says)[]
        {
            ("an unknown opcode", TorchSave([Proto, 2, 0xff, Stop]), "archive/data.pkl: unknown opcode 0xff at byte 2"),
            ("REDUCE on an empty stack", TorchSave([Proto, 2, Reduce, Stop]), "an opcode with nothing on the stack to use at byte 2"),
            ("STACK_GLOBAL on an empty stack", TorchSave([Proto, 4, StackGlobal, Stop]), "an opcode with nothing on the stack to use at byte 2"),
            ("a memo entry never written", TorchSave([Proto, 2, BinGet, 5, Stop]), "memo entry 5 read before it was written at byte 2"),
            ("POP_MARK without a MARK", TorchSave([Proto, 2, PopMark, Stop]), "an opcode that needs a MARK with none set at byte 2"),
            ("a string of 2^63 bytes", TorchSave([Proto, 4, 0x8d, 0, 0, 0, 0, 0, 0, 0, 0x80, Stop]), "a length of 9223372036854775808 bytes at byte 2"),
            ("a string of 4 GB in a short file", TorchSave([Proto, 2, (byte)'X', 0xff, 0xff, 0xff, 0xff, Stop]), "the pickle ends before its STOP opcode"),
            ("a PUT with a memo index that is not a number", TorchSave([Proto, 2, EmptyDict, (byte)'p', .. "x1\n"u8, Stop]), "the memo index 'x1' at byte 3"),
            // Read whole, not cut to its first 1,024 digits (0): the unpickler reads it as 5.
            ("a PUT with a memo index of 1,100 digits", TorchSave([Proto, 2, EmptyDict, (byte)'p', .. Encoding.ASCII.GetBytes(new string('0', 1100) + "5\n"), Stop]),
                "the memo index '0000"),
            ("no data.pkl", NoDataPkl(), "the archive has no data.pkl"),
            ("an empty file", [], "not a zip archive: torch.save's legacy format, before PyTorch 1.6, is not read"),
            ("torch.save's legacy format (its magic number)", [Proto, 2, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, Stop],
                "not a zip archive: torch.save's legacy format, before PyTorch 1.6, is not read"),
            ("a zip signature and nothing else", [(byte)'P', (byte)'K', 3, 4, 0, 0, 0], "a damaged zip archive: "),
        };
        foreach (var (what, bytes, says) in damaged)
        {
            var e = Refused(Write("damaged.bin", bytes));
            Console.WriteLine($"{what}: {e.Message}");
            StringAssert.Contains(e.Message, says, what);
            StringAssert.EndsWith(e.Message, "; save the model as model.safetensors instead.", what);
        }

        // Deep nesting is no recursion: 100,000 MARKs, then as many TUPLEs.
        var deep = new Pickles().Op(Proto, 2).Op([.. Enumerable.Repeat(Mark, 100_000)]).Op([.. Enumerable.Repeat((byte)'t', 100_000)]).Op(Stop).ToArray();
        PickleAllowList.Check(new MemoryStream(deep), "deep.bin", "data.pkl");

        // Seeded damage to the real pickle (bit flips, inserted and removed bytes), in the archive with its storages: read,
        // or refused with InvalidDataException.
        var random = new Random(28);
        var refused = 0;
        PickleAllowList.CheckFile(new MemoryStream(Archive(pickle, storages)), "good.bin");
        for (var i = 0; i < 3000; i++)
        {
            var (bytes, what) = Mutations.Next(random, pickle, safetensors: false);
            try { PickleAllowList.CheckFile(new MemoryStream(Archive(bytes, storages)), "mutated.bin"); }
            catch (InvalidDataException) { refused++; }
            catch (Exception e) { Assert.Fail($"input {i} ({what}): {e.GetType().Name}: {e.Message}"); }
        }
        Console.WriteLine($"{pickle.Length + damaged.Length} damaged files refused, 3000 mutations ({refused} refused) in {clock.ElapsedMilliseconds} ms");
    }

    private static byte[] NoDataPkl()
    {
        using var buffer = new MemoryStream();
        using (var zip = new System.IO.Compression.ZipArchive(buffer, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
            using (var entry = zip.CreateEntry("archive/version").Open()) entry.Write("3\n"u8);
        return buffer.ToArray();
    }

    [TestMethod]
    public void HostileTorchSaveFiles_AreRefused_AsPyTorchsWeightsOnlyLoadRefusesThem()
    {
        var source = Path.Combine(BertFixture.Reference, ModelFolder.PyTorchFile); // Inconclusive without Debian's PyTorch
        var clock = Stopwatch.StartNew();
        using var written = PythonReference.RunScript("hostile_pickles.py", new { action = "write", @out = folder, state_dict = source, marker = Marker });
        var expected = ModelFolder.LoadPickledStateDict(source);
        var hostile = new List<string>();
        try
        {
            foreach (var file in written.RootElement.GetProperty("files").EnumerateObject())
            {
                var path = Path.Combine(folder, file.Name);
                if (file.Value.ValueKind == JsonValueKind.Null)
                {
                    // The same state dict saved again, with pickle protocols 2 and 4 (STACK_GLOBAL): it loads, every tensor equal.
                    var loaded = ModelFolder.LoadPickledStateDict(path);
                    try
                    {
                        CollectionAssert.AreEquivalent(expected.Keys, loaded.Keys, file.Name);
                        foreach (var (name, tensor) in expected) Assert.IsTrue(TensorAssert.Identical(tensor, loaded[name]), $"{file.Name}: {name}");
                    }
                    finally
                    {
                        Dispose(loaded);
                    }
                    continue;
                }
                hostile.Add(path);
                var e = Refused(path);
                Console.WriteLine($"{file.Name}: {e.Message}");
                if (file.Name.Contains("legacy", StringComparison.Ordinal))
                    StringAssert.Contains(e.Message, "not a zip archive: torch.save's legacy format, before PyTorch 1.6, is not read");
                else
                    Assert.AreEqual($"{path}'s pickle calls {file.Value.GetString()}{RefusalTail}", e.Message);
                Assert.IsFalse(File.Exists(Marker), file.Name);
            }
        }
        finally
        {
            Dispose(expected);
        }
        Assert.HasCount(6, hostile);
        StringAssert.Contains(Refused(Path.Combine(folder, "system.bin")).Message, "calls posix.system, which a state dict never does: refusing it (nothing was run)");

        // PyTorch's loader for untrusted files refuses every one, the ones written opcode by opcode too, and reads the good ones.
        // (Not the second data.pkl: PyTorch reads only <archive>/data.pkl, the unpickler here the first entry ending with data.pkl.)
        var crafted = CraftedHostileFiles().Where(c => c.What != "a second data.pkl").Select((c, i) => Write($"crafted-{i}.bin", c.File)).ToList();
        var good = new[] { Path.Combine(folder, "good.bin"), Path.Combine(folder, "pybridge.bin") };
        using (var tensor = ones(2))
            PyTorchPickler.PickleStateDict(good[1], new Dictionary<string, Tensor> { ["w"] = tensor });
        using var checkedByTorch = PythonReference.RunScript("hostile_pickles.py", new { action = "check", files = hostile.Concat(crafted).Concat(good), marker = Marker });
        var results = checkedByTorch.RootElement.GetProperty("results");
        foreach (var path in hostile.Concat(crafted))
            StringAssert.StartsWith(results.GetProperty(path).GetString(), "Weights only load failed", path);
        foreach (var path in good) Assert.AreEqual("loaded", results.GetProperty(path).GetString(), path);
        Assert.IsFalse(checkedByTorch.RootElement.GetProperty("marker_exists").GetBoolean(), "torch.load(weights_only=True) ran nothing");

        // The proof that the files are hostile: PyTorch's unguarded loader runs the command.
        using var unguarded = PythonReference.RunScript("hostile_pickles.py", new { action = "check", files = new[] { Path.Combine(folder, "system.bin") }, marker = Marker, weights_only = false });
        Assert.IsTrue(unguarded.RootElement.GetProperty("marker_exists").GetBoolean(), "torch.load(weights_only=False) runs os.system");
        Console.WriteLine($"{hostile.Count} hostile torch.save files and {crafted.Count} crafted ones in {clock.Elapsed.TotalSeconds:F1} s");
    }

    // pytorch_model.bin files whose storages or tensors claim more than the archive holds (issue #28: no allocation sized by
    // a number the file does not back). TorchSharp.PyBridge allocates torch.empty(size) for each tensor before it reads the
    // storage's bytes, whatever the storage's numel says; StorageBounds refuses such a file during the pickle's scan, before
    // PyBridge runs. TorchSave's archive holds archive/data/0: 16 bytes, 4 float32 values.
    private const string StorageTail = ": the file is damaged or crafted; refusing it before allocating";

    private static Weight Floats(string name, long[] size, long[] stride, long offset = 0, long numel = 4) => new(name, numel, size, stride, offset);

    [TestMethod]
    public void AStorageLargerThanItsEntry_OrATensorLargerThanItsStorage_IsRefusedBeforeAllocating()
    {
        var claims = new (string What, byte[] File, string Says)[]
        {
            ("a storage of 16,777,216 float32 values in 16 bytes", TorchSave(StateDict(Floats("w", [4096, 4096], [4096, 1], numel: 4096 * 4096))),
                "storage 0 claims 16,777,216 float32 values (67,108,864 bytes) but archive/data/0 holds 16 bytes"),
            ("int64 values in a float32-sized entry", TorchSave(StateDict(new Weight("w", 4, [4], [1], Storage: "LongStorage"))),
                "storage 0 claims 4 int64 values (32 bytes) but archive/data/0 holds 16 bytes"),
            ("a storage of 2^62 values (LONG1)", TorchSave(StateDict(Floats("w", [4], [1], numel: 1L << 62))),
                "storage 0 claims 4,611,686,018,427,387,904 float32 values (9,223,372,036,854,775,807 bytes) but archive/data/0 holds 16 bytes"),
            ("a storage whose entry is missing", TorchSave(StateDict(new Weight("w", 4, [4], [1], Key: "7"))), "storage 7 has no entry data/7 in the archive"),
            ("a 4096x4096 tensor over 4 values", TorchSave(StateDict(Floats("w", [4096, 4096], [4096, 1]))),
                "tensor 'w' (size [4,096, 4,096], stride [4,096, 1], offset 0) needs 16,777,216 float32 values but storage 0 holds 4"),
            ("a stride past the storage", TorchSave(StateDict(Floats("w", [2, 2], [4, 1]))), "tensor 'w' (size [2, 2], stride [4, 1], offset 0) needs 6 float32 values"),
            ("an offset past the storage", TorchSave(StateDict(Floats("w", [2, 2], [2, 1], offset: 1))), "tensor 'w' (size [2, 2], stride [2, 1], offset 1) needs 5 float32 values"),
            // PyTorch would view 4 values; PyBridge allocates all 16,777,216 (a copy of the expanded tensor).
            ("an expanded tensor (stride 0)", TorchSave(StateDict(Floats("w", [4096, 4096], [0, 0]))), "tensor 'w' (size [4,096, 4,096], stride [0, 0], offset 0) needs 16,777,216 float32 values"),
            ("sizes whose product overflows", TorchSave(StateDict(Floats("w", [1L << 40, 1L << 40], [1, 1]))), "needs 9,223,372,036,854,775,807 float32 values"),
            // 17 tensors of the one 16-byte storage: 272 bytes, more than 16 copies of it.
            ("one storage copied by 17 tensors", TorchSave(StateDict([.. Enumerable.Range(0, 17).Select(i => Floats($"w{i}", [4], [1]))])),
                "its tensors up to 'w16' take 272 bytes, more than 16 times the 16 bytes of the storages they use (each tensor is a copy of its storage)"),
            ("an entry claiming 2 GB more than the file has", ClaimingMore(TorchSave(StateDict(Floats("w", [4], [1]))), "archive/data/0", compressed: true),
                "bytes of data but the file has "),
            ("a deflated entry claiming to expand to 2 GB", ClaimingMore(Deflated(StateDict(Floats("w", [2048, 65536], [65536, 1], numel: 2048L * 65536))), "archive/data/0", compressed: false),
                "storage 0 claims 134,217,728 float32 values (536,870,912 bytes) but archive/data/0 "),
        };
        foreach (var (what, bytes, says) in claims)
        {
            var e = Refused(Write("claims.bin", bytes));
            Console.WriteLine($"{what}: {e.Message}");
            StringAssert.Contains(e.Message, says, what);
            StringAssert.EndsWith(e.Message, StorageTail, what);
        }
        // The table's row.
        var huge = Write("huge.bin", claims[0].File);
        Assert.AreEqual($"{huge}: storage 0 claims 16,777,216 float32 values (67,108,864 bytes) but archive/data/0 holds 16 bytes{StorageTail}", Refused(huge).Message);

        // Numbers the scan cannot read as torch.save writes them are refused, not guessed.
        var unfollowed = new (string What, byte[] Pickle)[]
        {
            ("the numel a float", Replace(StateDict(Floats("w", [4], [1])), Numel(4), [(byte)'G', .. BitConverter.GetBytes(4.0).Reverse()])),
            ("the size a list", Replace(StateDict(Floats("w", [4], [1])), [(byte)'(', .. Numel(4), (byte)'t', .. new Pickles().Ints([1]).ToArray()],
                [(byte)'(', .. Numel(4), (byte)'l', .. new Pickles().Ints([1]).ToArray()])),
            ("a negative size", StateDict(Floats("w", [-4], [1]))),
            ("fewer sizes than strides", StateDict(Floats("w", [4], [1, 1]))),
            ("65 dimensions", StateDict(Floats("w", [.. Enumerable.Repeat(1L, 65)], [.. Enumerable.Repeat(1L, 65)]))),
            ("a persistent id of protocol 0 (PERSID)", new Pickles().Op(Proto, 2, EmptyDict).Str("w").Op((byte)'P').Op("0\n"u8.ToArray()).Op(SetItem, Stop).ToArray()),
            ("a 1,100-digit size (INT)", Replace(StateDict(Floats("w", [4], [1])), [.. new Pickles().Ints([4]).ToArray(), .. new Pickles().Ints([1]).ToArray()],
                [(byte)'(', (byte)'I', .. Encoding.ASCII.GetBytes(new string('0', 1100) + "4\n"), (byte)'t', .. new Pickles().Ints([1]).ToArray()])),
        };
        foreach (var (what, pickle) in unfollowed)
        {
            var e = Refused(Write("unfollowed.bin", TorchSave(pickle)));
            Console.WriteLine($"{what}: {e.Message}");
            StringAssert.Matches(e.Message, new System.Text.RegularExpressions.Regex(
                "archive/data.pkl byte [0-9]+: (tensor 'w' has a storage, offset, size or stride that is not a literal as torch.save writes it|a persistent id that is not)"), what);
            StringAssert.EndsWith(e.Message, StorageTail, what);
        }

        // The tensor is bounded however the pickle calls _rebuild_tensor_v2: OBJ, as well as REDUCE.
        var byObj = new Pickles().Op(Proto, 2, EmptyDict).Str("w").Op(Mark).Global("torch._utils", "_rebuild_tensor_v2")
            .Op(Mark).Str("storage").Global("torch", "FloatStorage").Str("0").Str("cpu").Int(4).Op((byte)'t', BinPersId)
            .Int(0).Ints([4096, 4096]).Ints([4096, 1]).Op(NewFalse, EmptyDict, (byte)'o', SetItem, Stop).ToArray();
        StringAssert.Contains(Refused(Write("obj.bin", TorchSave(byObj))).Message, "tensor 'w' (size [4,096, 4,096], stride [4,096, 1], offset 0) needs 16,777,216 float32 values");

        // What fits loads: 4 values in the 16 bytes, a 2x2 view of them, two tensors tied to them, an empty one.
        var fits = Write("fits.bin", TorchSave(StateDict(Floats("a", [4], [1]), Floats("b", [2, 2], [2, 1]), Floats("c", [4], [1]), Floats("e", [0], [1]))));
        Dispose(ModelFolder.LoadPickledStateDict(fits));
    }

    [TestMethod]
    public void PyBridgeAllocatesWhatATensorsSizeClaims_SoTheCheckComesFirst()
    {
        var claim = Write("claim.bin", TorchSave(StateDict(Floats("w", [16384, 16384], [16384, 1]))));
        var refused = Refused(claim);
        StringAssert.StartsWith(refused.Message, $"{claim}: tensor 'w' (size [16,384, 16,384], stride [16,384, 1], offset 0) needs 268,435,456 float32 values but storage 0 holds 4");
        // PyBridge does not use a storage's numel: a 4-value tensor over a storage claiming 16,777,216 values loads…
        var numelIgnored = Write("numel.bin", TorchSave(StateDict(Floats("w", [2, 2], [2, 1], numel: 4096 * 4096))));
        using (var file = File.OpenRead(numelIgnored))
        {
            var loaded = PyTorchUnpickler.UnpickleStateDict(file, leaveOpen: true);
            using var w = (Tensor)loaded["w"]!;
            CollectionAssert.AreEqual(new long[] { 2, 2 }, w.shape);
        }
        // …but a 1 GiB tensor over 4 values is allocated (torch.empty) before its bytes are found missing.
        if (!File.Exists("/proc/self/status")) return; // the address space is measured on Linux
        // Refused by the check: the process's address space does not grow by the 1 GiB; through PyBridge alone it does.
        // (Resident memory barely moves either way: the pages torch.empty maps are never written, as the read fails.)
        const long GiB = 1L << 30;
        var (size, peak) = (VmKilobytes("VmSize") * 1024, VmKilobytes("VmPeak") * 1024);
        Refused(claim);
        var checkedPeak = VmKilobytes("VmPeak") * 1024;
        Assert.IsLessThan(GiB / 2, checkedPeak - peak, "the check allocated the claim");
        using (var file = File.OpenRead(claim))
            Assert.ThrowsExactly<EndOfStreamException>(() => PyTorchUnpickler.UnpickleStateDict(file, leaveOpen: true));
        var pyBridgePeak = VmKilobytes("VmPeak") * 1024;
        Console.WriteLine($"address space: {size >> 20} MB, peak {peak >> 20} MB; after the check's refusal {checkedPeak >> 20} MB; after PyBridge alone {pyBridgePeak >> 20} MB");
        Assert.IsGreaterThanOrEqualTo(size + GiB * 3 / 4, pyBridgePeak, "PyBridge maps torch.empty(16384, 16384) before it reads");
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    [TestMethod]
    public void RealTorchSaveStorages_OfEveryType_Load()
    {
        var path = Path.Combine(folder, "storages.bin");
        using var written = PythonReference.RunScript("hostile_pickles.py", new { action = "storages", @out = path }); // Inconclusive without Debian's PyTorch
        var dtypes = new Dictionary<string, ScalarType>
        {
            ["float64"] = ScalarType.Float64, ["float32"] = ScalarType.Float32, ["float16"] = ScalarType.Float16, ["bfloat16"] = ScalarType.BFloat16,
            ["int64"] = ScalarType.Int64, ["int32"] = ScalarType.Int32, ["int16"] = ScalarType.Int16, ["int8"] = ScalarType.Int8, ["uint8"] = ScalarType.Byte,
            ["bool"] = ScalarType.Bool, ["complex128"] = ScalarType.ComplexFloat64, ["complex64"] = ScalarType.ComplexFloat32,
        };
        var loaded = ModelFolder.LoadPickledStateDict(path);
        try
        {
            var expected = written.RootElement.GetProperty("tensors").EnumerateObject().ToList();
            Assert.HasCount(expected.Count, loaded);
            foreach (var tensor in expected)
            {
                var t = loaded[tensor.Name];
                Assert.AreEqual(dtypes[tensor.Value[0].GetString()!], t.dtype, tensor.Name);
                CollectionAssert.AreEqual(tensor.Value[1].EnumerateArray().Select(d => d.GetInt64()).ToArray(), t.shape, tensor.Name);
                if (tensor.Name is not ("empty" or "scalar")) Assert.IsTrue(t.eq(1).all().item<bool>(), $"{tensor.Name} holds its ones");
            }
        }
        finally
        {
            Dispose(loaded);
        }
    }

    private static long VmKilobytes(string field) =>
        long.Parse(File.ReadLines("/proc/self/status").Single(l => l.StartsWith(field + ":", StringComparison.Ordinal))
            .Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);

    private static byte[] Numel(long numel) => new Pickles().Int(numel).ToArray();

    private static byte[] Replace(byte[] pickle, byte[] from, byte[] to)
    {
        var at = pickle.AsSpan().IndexOf(from);
        Assert.IsGreaterThanOrEqualTo(0, at, "the bytes to replace are in the pickle");
        return [.. pickle[..at], .. to, .. pickle[(at + from.Length)..]];
    }

    /// <summary>A torch.save archive whose data/0 (4 float32 values) is deflated rather than stored.</summary>
    private static byte[] Deflated(byte[] pickle)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            using (var entry = zip.CreateEntry("archive/data.pkl", CompressionLevel.NoCompression).Open()) entry.Write(pickle);
            using (var entry = zip.CreateEntry("archive/data/0", CompressionLevel.Optimal).Open()) entry.Write(new byte[16]);
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// The archive with <paramref name="entry"/>'s sizes raised by 2^31 in its local header and its central directory
    /// record: the compressed and the uncompressed size, or only the uncompressed one.
    /// </summary>
    private static byte[] ClaimingMore(byte[] archive, string entry, bool compressed)
    {
        var bytes = archive.ToArray();
        var name = Encoding.UTF8.GetBytes(entry);
        // (signature, offset of the compressed size (the uncompressed one follows), of the name's length, of the name)
        foreach (var (signature, sizes, nameLength, nameAt) in new[] { (0x04034b50u, 18, 26, 30), (0x02014b50u, 20, 28, 46) })
            for (var at = 0; at + nameAt + name.Length <= bytes.Length; at++)
                if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at)) == signature
                    && BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + nameLength)) == name.Length && bytes.AsSpan(at + nameAt, name.Length).SequenceEqual(name))
                    foreach (var field in compressed ? new[] { sizes, sizes + 4 } : [sizes + 4])
                        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at + field), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + field)) + (1u << 31));
        return bytes;
    }
}
