using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Pretrained;
using Microsoft.ML.Lorenza.Pretrained.Hub;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Hub;

/// <summary>
/// One cache for Python and .NET, checked with Python's own client (huggingface_hub, see <see cref="HuggingFaceHubPython"/>)
/// against the stand-in: what huggingface_hub downloaded is used here with HF_HUB_OFFLINE (and not downloaded again
/// online); what this project downloaded huggingface_hub reads with local_files_only, its .no_exist markers included,
/// and its cache scanner finds whole; and a blob's lock is one lock for both.
/// </summary>
[TestClass]
public sealed class HubInteropTests
{
    private const string Roberta = "lorenza-test/tiny-roberta";
    private const string Bert = "lorenza-test/tiny-bert";
    private static HubStandIn hub = null!;
    private static Dictionary<string, byte[]> roberta = null!, bert = null!;
    private string folder = "";

    [ClassInitialize]
    public static void StartTheStandIn(TestContext _)
    {
        hub = new HubStandIn();
        roberta = HubFixtures.TinyRoberta(seed: 1);
        bert = HubFixtures.TinyBert("shards");
        hub.AddRepo(Roberta).AddCommit(roberta);
        hub.AddRepo(Bert).AddCommit(bert);
    }

    [ClassCleanup]
    public static void StopTheStandIn() => hub.Dispose();

    [TestInitialize]
    public void MakeAFolder()
    {
        folder = Directory.CreateTempSubdirectory("lorenza-hub-interop-").FullName;
        hub.Requests.Clear();
    }

    [TestCleanup]
    public void DeleteTheFolder() => Directory.Delete(folder, recursive: true);

    private Dictionary<string, string> Python(string cache, bool offline = false) => new()
    {
        ["HF_ENDPOINT"] = hub.Endpoint, ["HF_HUB_CACHE"] = cache, ["HF_HOME"] = Path.Combine(folder, "hf-home"), ["HF_HUB_OFFLINE"] = offline ? "1" : "0",
    };

    private HubSettings Ours(string cache, bool offline = false) => new()
    {
        Endpoint = new Uri(hub.Endpoint), CacheRoot = cache, Offline = offline,
        EtagTimeout = TimeSpan.FromSeconds(5), DownloadTimeout = TimeSpan.FromSeconds(5), RetryDelay = TimeSpan.FromMilliseconds(20),
    };

    private static HubResult Get(string id, HubSettings settings, List<string>? log = null) =>
        HubModels.Get(HubModelId.Parse(id), new PretrainedModelOptions { Log = log is null ? null : log.Add }, settings);

    [TestMethod]
    public void ACacheHuggingFaceHubWroteIsUsedOfflineAndNotDownloadedAgain()
    {
        var cache = Path.Combine(folder, "written-by-python");
        var files = new[] { "config.json", "model.safetensors", "vocab.json", "merges.txt", "tokenizer_config.json" };
        var python = HuggingFaceHubPython.Run(new { action = "download", repo_id = Roberta, revision = "main", files, absent = new[] { "special_tokens_map.json" } }, Python(cache));
        Console.WriteLine($"huggingface_hub {python.GetProperty("version").GetString()} downloaded {Roberta} into {cache}");
        Assert.IsTrue(python.GetProperty("absent").GetProperty("special_tokens_map.json").GetBoolean(), "the hub's EntryNotFound");
        var pythonRequests = hub.Requests.Count;
        Assert.IsTrue(hub.ToStorage.All(r => r.Authorization is null));

        var offline = Get(Roberta, Ours(cache, offline: true));
        Assert.AreEqual(pythonRequests, hub.Requests.Count, "offline: no request");
        CollectionAssert.AreEqual(files, offline.Files.ToArray(), "the same files, special_tokens_map.json known absent from Python's .no_exist");
        foreach (var file in files)
            Assert.AreEqual(python.GetProperty("paths").GetProperty(file).GetString(), Path.Combine(offline.Folder, file), $"{file}: the path huggingface_hub returned");
        var (model, report) = ModelFolder.Load(offline.Folder, ["neg", "pos"]);
        using (model) Assert.AreEqual(0, report.FreshlyInitialized.Count);

        hub.Requests.Clear();
        var online = Get(Roberta, Ours(cache));
        Assert.AreEqual(offline.Folder, online.Folder);
        Assert.AreEqual(0, online.FilesDownloaded);
        Assert.IsTrue(hub.Requests.All(r => r.Method == "HEAD"), "online, only metadata: Python's blobs are used");
    }

    [TestMethod]
    public void HuggingFaceHubReadsWhatThisProjectDownloadedWithLocalFilesOnly()
    {
        var cache = Path.Combine(folder, "written-by-lorenza");
        var ours = Get(Bert, Ours(cache));
        var python = HuggingFaceHubPython.Run(new { action = "read", repo_id = Bert, revision = "main", files = ours.Files, absent = new[] { "model.safetensors", "pytorch_model.bin" } },
                                             Python(cache, offline: true));
        Console.WriteLine($"huggingface_hub {python.GetProperty("version").GetString()} read {Bert} from {cache}: {python}");
        foreach (var file in ours.Files)
        {
            Assert.AreEqual(Path.Combine(ours.Folder, file), python.GetProperty("paths").GetProperty(file).GetString(), file);
            Assert.AreEqual(HubStandIn.Sha256(bert[file]), python.GetProperty("sha256").GetProperty(file).GetString(), file);
        }
        Assert.IsTrue(python.GetProperty("absent").GetProperty("model.safetensors").GetBoolean(), "our .no_exist marker, read by huggingface_hub");
        Assert.IsFalse(python.GetProperty("absent").GetProperty("pytorch_model.bin").GetBoolean(), "never asked for: not marked");

        var scan = python.GetProperty("scan").EnumerateArray().Single();
        Assert.AreEqual(Bert, scan.GetProperty("repo_id").GetString());
        Assert.AreEqual(bert.Where(f => ours.Files.Contains(f.Key)).Sum(f => (long)f.Value.Length), scan.GetProperty("size_on_disk").GetInt64());
        var revision = scan.GetProperty("revisions").EnumerateArray().Single();
        Assert.AreEqual(ours.Commit, revision.GetProperty("commit_hash").GetString());
        CollectionAssert.AreEqual(new[] { "main" }, revision.GetProperty("refs").EnumerateArray().Select(r => r.GetString()).ToArray());
        CollectionAssert.AreEqual(ours.Files.Order(StringComparer.Ordinal).ToArray(), revision.GetProperty("files").EnumerateArray().Select(f => f.GetString()).ToArray());
        Assert.AreEqual(0, python.GetProperty("warnings").GetArrayLength(), python.GetProperty("warnings").ToString());
    }

    [TestMethod]
    public void ABlobsLockIsOneLockForHuggingFaceHubAndThisProject()
    {
        // huggingface_hub holds the lock of the weights' blob: we wait for it.
        var cache = Path.Combine(folder, "locked");
        var sha = HubStandIn.Sha256(roberta["model.safetensors"]);
        var lockPath = Path.Combine(cache, ".locks", "models--lorenza-test--tiny-roberta", sha + ".lock");
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);
        using (var holder = HuggingFaceHubPython.Start(new { action = "hold_lock", @lock = lockPath, seconds = 2.0 }, Python(cache)))
        {
            Assert.AreEqual("locked", holder.StandardOutput.ReadLine(), holder.HasExited ? holder.StandardError.ReadToEnd() : "");
            var log = new List<string>();
            var clock = Stopwatch.StartNew();
            Get(Roberta, Ours(cache), log);
            Console.WriteLine($"waited {clock.Elapsed.TotalSeconds:F1} s for huggingface_hub's lock");
            Assert.IsTrue(clock.Elapsed > TimeSpan.FromSeconds(1.2), $"{clock.Elapsed}");
            Assert.IsTrue(log.Any(l => l == $"waiting for model.safetensors of {Roberta}: another process holds {lockPath}"), string.Join("\n", log));
            holder.WaitForExit();
        }

        // We hold it: huggingface_hub waits for us.
        var second = Path.Combine(folder, "locked-by-us");
        var ourLock = Path.Combine(second, ".locks", "models--lorenza-test--tiny-roberta", sha + ".lock");
        using var download = new Func<Process>(() =>
        {
            using (CacheFiles.Lock(ourLock, "the test", null, CancellationToken.None))
            {
                var process = HuggingFaceHubPython.Start(new { action = "download", repo_id = Roberta, revision = "main", files = new[] { "model.safetensors" } }, Python(second));
                Thread.Sleep(2500);
                Assert.IsFalse(process.HasExited, "huggingface_hub waits while we hold the blob's lock: " + (process.HasExited ? process.StandardError.ReadToEnd() : ""));
                return process;
            }
        })();
        Assert.IsTrue(download.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.AreEqual(0, download.ExitCode, download.StandardError.ReadToEnd());
        var reply = JsonDocument.Parse(download.StandardOutput.ReadToEnd()).RootElement;
        Assert.AreEqual(sha, reply.GetProperty("sha256").GetProperty("model.safetensors").GetString());
    }
}
