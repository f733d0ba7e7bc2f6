using System.Diagnostics;
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
// torch.load(weights_only=True) refuses them; damaged pickles end in an InvalidDataException; real torch.save state
// dicts still load. Before the check, TorchSharp.PyBridge (Razorvine.Pickle) turned an unknown global into a
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
        for (var length = 0; length < pickle.Length; length++)
        {
            var e = Refused(Write("cut.bin", TorchSave(pickle[..length])));
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

        // Seeded damage to the real pickle (bit flips, inserted and removed bytes): read, or refused with InvalidDataException.
        var random = new Random(28);
        var refused = 0;
        for (var i = 0; i < 3000; i++)
        {
            var (bytes, what) = Mutations.Next(random, pickle, safetensors: false);
            try { PickleAllowList.Check(new MemoryStream(bytes), "mutated.bin", "data.pkl"); }
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
}
