using System.Text;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Pretrained;
using Microsoft.ML.Lorenza.Pretrained.Hub;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.ML.Lorenza.Tests.Text;
using Microsoft.ML.Lorenza.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Hub;

/// <summary>
/// The hub source against the stand-in (<see cref="HubStandIn"/>): the cache's layout, the protocol (metadata, the
/// redirect to the storage host without the token, ranges), offline use and the fallback to the cache, resumed and
/// restarted transfers, the SHA-256 check, the free-space check, one blob per etag under concurrent downloads, the files
/// of each family (sharded safetensors, pytorch_model.bin, the slow tokenizer or tokenizer.json), and every refusal as one line naming the fix.
/// </summary>
[TestClass]
public sealed class HubDownloadTests
{
    private const string Roberta = "lorenza-test/tiny-roberta";
    private static HubStandIn hub = null!;
    private static Dictionary<string, byte[]> roberta = null!, robertaV1 = null!;
    private static string robertaCommit = "", robertaV1Commit = "";
    private readonly List<string> temporary = [];
    private readonly List<string> log = [];

    [ClassInitialize]
    public static void StartTheStandIn(TestContext _)
    {
        hub = new HubStandIn();
        roberta = HubFixtures.TinyRoberta(seed: 1);
        robertaV1 = HubFixtures.TinyRoberta(seed: 5);
        var repo = hub.AddRepo(Roberta);
        robertaV1Commit = repo.AddCommit(robertaV1, "v1");
        robertaCommit = repo.AddCommit(roberta, "main");
        hub.AddRepo("lorenza-test/tiny-bert").AddCommit(HubFixtures.TinyBert("shards"));
        hub.AddRepo("lorenza-test/tiny-bert-bin").AddCommit(HubFixtures.TinyBert("bin"));
        hub.AddRepo("lorenza-test/gated-bert", gated: true).AddCommit(HubFixtures.TinyBert("shards", seed: 3));
        hub.AddRepo("lorenza-test/gpt2").AddCommit(HubFixtures.Unsupported());
        hub.AddRepo("lorenza-test/tiny-xlm-roberta").AddCommit(HubFixtures.TinyFamily(XlmRobertaConfig.Type));
        // ELECTRA with both tokenizers (the slow one is taken), DistilBERT with tokenizer.json alone (it stands in).
        var electra = HubFixtures.TinyFamily(ElectraConfig.Type);
        electra[ModelFamilies.TokenizerJsonFile] = Encoding.UTF8.GetBytes(TokenizerJsonTests.WordPieceJson(BertFixture.TinyVocabulary, lowercase: true).ToJsonString());
        hub.AddRepo("lorenza-test/tiny-electra").AddCommit(electra);
        var distilBert = HubFixtures.TinyFamily(DistilBertConfig.Type);
        distilBert.Remove(BertWordPieceTokenizer.VocabFile);
        distilBert[ModelFamilies.TokenizerJsonFile] = electra[ModelFamilies.TokenizerJsonFile];
        hub.AddRepo("lorenza-test/tiny-distilbert-fast").AddCommit(distilBert);
        hub.AddRepo("lorenza-test/no-vocab").AddCommit(roberta.Where(f => f.Key != "vocab.json").ToDictionary());
        hub.AddRepo("lorenza-test/no-weights").AddCommit(roberta.Where(f => f.Key != "model.safetensors").ToDictionary());
        var bert = HubFixtures.TinyBert("shards");
        bert["model.safetensors.index.json"] = Encoding.UTF8.GetBytes("""{"weight_map": {"bert.embeddings.word_embeddings.weight": "../../../escaped.safetensors"}}""");
        hub.AddRepo("lorenza-test/evil-shards").AddCommit(bert);
        hub.Renamed["old-owner/tiny-roberta"] = Roberta;
    }

    [ClassCleanup]
    public static void StopTheStandIn() => hub.Dispose();

    [TestInitialize]
    public void ResetTheStandIn()
    {
        hub.Requests.Clear();
        (hub.CutsLeft, hub.IgnoreRange, hub.Corrupt, hub.CutFraction, hub.Portal) = (0, false, false, 0.4, false);
        (hub.HeadDelay, hub.StallsLeft, hub.ForgedCommit, hub.ForgedEtag) = (TimeSpan.Zero, 0, null, null);
    }

    [TestCleanup]
    public void DeleteTemporaryFolders()
    {
        CacheFiles.FreeSpace = path => new DriveInfo(path).AvailableFreeSpace;
        foreach (var path in temporary) if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
    }

    private string NewCache()
    {
        var path = Directory.CreateTempSubdirectory("lorenza-hub-cache-").FullName;
        temporary.Add(path);
        return path;
    }

    private HubSettings Settings(string cache, bool offline = false, string? token = null, string? endpoint = null) => new()
    {
        Endpoint = new Uri(endpoint ?? hub.Endpoint),
        CacheRoot = cache,
        Offline = offline,
        EtagTimeout = TimeSpan.FromSeconds(5),
        DownloadTimeout = TimeSpan.FromSeconds(5),
        RetryDelay = TimeSpan.FromMilliseconds(20),
        Token = token is null ? null : HubToken.Find(token, _ => null, cache),
    };

    private HubResult Get(string id, HubSettings settings, IProgress<DownloadProgress>? progress = null) =>
        HubModels.Get(HubModelId.Parse(id), new PretrainedModelOptions { Log = log.Add, Progress = progress }, settings);

    private static PretrainedModelException Refused(Action get, params string[] parts)
    {
        var e = Assert.ThrowsExactly<PretrainedModelException>(get);
        Console.WriteLine($"error: {e.Message}");
        Assert.IsFalse(e.Message.Contains('\n'), "one line");
        foreach (var part in parts) StringAssert.Contains(e.Message, part);
        return e;
    }

    private static string[] Entries(string root) =>
        Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(root, p)).Order(StringComparer.Ordinal).ToArray();

    private static void AssertNoPartialFiles(string cache)
    {
        var partial = Entries(cache).Where(e => e.EndsWith(".tmp", StringComparison.Ordinal) || e.EndsWith(".incomplete", StringComparison.Ordinal)).ToList();
        Assert.AreEqual(0, partial.Count, string.Join(", ", partial));
    }

    [TestMethod]
    public void ARobertaLandsInPythonsLayoutAndLoads_TheTokenNeverLeavesTheHub()
    {
        var cache = NewCache();
        var result = Get(Roberta, Settings(cache, token: HubStandIn.Token));
        foreach (var line in log) Console.WriteLine(line);
        var repo = Path.Combine(cache, "models--lorenza-test--tiny-roberta");
        Assert.AreEqual(Path.Combine(repo, "snapshots", robertaCommit), result.Folder);
        Assert.AreEqual(robertaCommit, result.Commit);
        Assert.AreEqual(robertaCommit, File.ReadAllText(Path.Combine(repo, "refs", "main")), "refs/main: the commit, no newline");
        CollectionAssert.AreEqual(new[] { "config.json", "model.safetensors", "vocab.json", "merges.txt", "tokenizer_config.json" }, result.Files.ToArray());
        foreach (var file in result.Files)
        {
            var pointer = new FileInfo(Path.Combine(result.Folder, file));
            var etag = HubStandIn.IsLfs(file) ? HubStandIn.Sha256(roberta[file]) : HubStandIn.GitBlobId(roberta[file]);
            Assert.AreEqual(Path.Combine("..", "..", "blobs", etag), pointer.LinkTarget, $"{file}: a relative link to its blob");
            CollectionAssert.AreEqual(roberta[file], File.ReadAllBytes(pointer.FullName), file);
        }
        Assert.IsTrue(File.Exists(Path.Combine(repo, ".no_exist", robertaCommit, "special_tokens_map.json")), "a file the repository lacks is remembered");
        Assert.IsTrue(File.Exists(Path.Combine(cache, ".locks", "models--lorenza-test--tiny-roberta", HubStandIn.Sha256(roberta["model.safetensors"]) + ".lock")));
        AssertNoPartialFiles(cache);
        Assert.AreEqual(5, result.FilesDownloaded);
        Assert.AreEqual(roberta.Where(f => f.Key != "special_tokens_map.json").Sum(f => (long)f.Value.Length), result.BytesDownloaded);
        Assert.AreEqual(1, result.VerifiedSha256);

        // The protocol: metadata from the hub with the token; the weights from the storage host, without it.
        var requests = hub.Requests.ToList();
        foreach (var r in requests) Console.WriteLine($"{r.Method} {r.Host}{r.Path} {r.Status} auth={(r.Authorization is null ? "no" : "yes")}");
        Assert.IsTrue(hub.ToHub.All(r => r.Authorization == $"Bearer {HubStandIn.Token}"), "every request to the hub carries the token");
        var storage = hub.ToStorage.ToList();
        Assert.AreEqual(1, storage.Count, "the weights came from the storage host");
        Assert.AreEqual("GET", storage[0].Method);
        Assert.IsNull(storage[0].Authorization, "the token never reaches the storage host");
        Assert.IsFalse(hub.ToHub.Any(r => r.Method == "GET" && r.Path.EndsWith("model.safetensors", StringComparison.Ordinal)));
        var token = Encoding.UTF8.GetBytes(HubStandIn.Token);
        foreach (var file in Directory.EnumerateFiles(cache, "*", SearchOption.AllDirectories))
            Assert.AreEqual(-1, File.ReadAllBytes(file).AsSpan().IndexOf(token), $"{file} holds the token");
        Assert.IsFalse(log.Any(l => l.Contains(HubStandIn.Token)), "no log line shows the token");

        var (model, report) = ModelFolder.Load(result.Folder, ["neg", "pos"]);
        using (model) Assert.AreEqual(0, report.FreshlyInitialized.Count);
        Assert.IsTrue(ModelFolder.LoadTokenizer(result.Folder).VocabSize > 0);
    }

    [TestMethod]
    public void ASecondGetAsksForMetadataOnly_OfflineAndByCommitItAsksNothing()
    {
        var cache = NewCache();
        var first = Get(Roberta, Settings(cache));
        hub.Requests.Clear();
        var again = Get(Roberta, Settings(cache));
        Assert.AreEqual(first.Folder, again.Folder);
        Assert.AreEqual(0, again.FilesDownloaded);
        Assert.IsTrue(hub.Requests.All(r => r.Method == "HEAD"), "only metadata: the blobs are there");

        hub.Requests.Clear();
        var offline = Get(Roberta, Settings(cache, offline: true));
        Assert.AreEqual(first.Folder, offline.Folder);
        Assert.AreEqual(0, hub.Requests.Count, "HF_HUB_OFFLINE: no connection at all");
        CollectionAssert.AreEqual(first.Files.ToArray(), offline.Files.ToArray());

        var pinned = Get($"{Roberta}@{robertaCommit}", Settings(cache));
        Assert.AreEqual(first.Folder, pinned.Folder);
        Assert.AreEqual(0, hub.Requests.Count, "a commit the cache holds needs no request");
    }

    [TestMethod]
    public void OfflineWithoutTheModelIsOneLineNamingTheCacheAndTheVariable()
    {
        var cache = NewCache();
        Refused(() => Get(Roberta, Settings(cache, offline: true)), "HF_HUB_OFFLINE is set", cache, Roberta, "run once without HF_HUB_OFFLINE");
        Assert.AreEqual(0, hub.Requests.Count);

        // Half a model (as after AutoConfig alone in Python): offline names the first file it lacks.
        var partial = NewCache();
        var commit = Get(Roberta, Settings(partial)).Commit;
        File.Delete(Path.Combine(partial, "models--lorenza-test--tiny-roberta", "snapshots", commit, "merges.txt"));
        Refused(() => Get(Roberta, Settings(partial, offline: true)), "has no merges.txt", partial);
    }

    [TestMethod]
    public void AnUnreachableHubFallsBackToTheCacheAndSaysSoInOneLine()
    {
        var cache = NewCache();
        var online = Get(Roberta, Settings(cache));
        log.Clear();
        const string nowhere = "http://127.0.0.1:9";
        var fallback = Get(Roberta, Settings(cache, endpoint: nowhere));
        Assert.AreEqual(online.Folder, fallback.Folder);
        Assert.AreEqual(1, log.Count, string.Join("\n", log));
        Console.WriteLine(log[0]);
        StringAssert.StartsWith(log[0], "could not reach http://127.0.0.1:9 (");
        StringAssert.Contains(log[0], $"using the cached {Roberta} at commit {robertaCommit[..12]}");

        var empty = NewCache();
        Refused(() => Get(Roberta, Settings(empty, endpoint: nowhere)), $"cannot download {Roberta} from http://127.0.0.1:9", empty, "HF_HUB_OFFLINE=1", "HF_ENDPOINT");
    }

    [TestMethod]
    public void AHangingHubMeetsTheShortMetadataTimeout_AStalledTransferIsResumed()
    {
        HubSettings With(string cache, double etagSeconds, double downloadSeconds) => new()
        {
            Endpoint = new Uri(hub.Endpoint), CacheRoot = cache, Offline = false, RetryDelay = TimeSpan.FromMilliseconds(20),
            EtagTimeout = TimeSpan.FromSeconds(etagSeconds), DownloadTimeout = TimeSpan.FromSeconds(downloadSeconds),
        };

        // The metadata request gives up after HF_HUB_ETAG_TIMEOUT (1 s here), not the transfer's timeout (10 s here).
        var cache = NewCache();
        var online = Get(Roberta, Settings(cache));
        hub.HeadDelay = TimeSpan.FromSeconds(3);
        log.Clear();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var fallback = Get(Roberta, With(cache, etagSeconds: 1, downloadSeconds: 10));
        Assert.IsTrue(clock.Elapsed < TimeSpan.FromSeconds(2.5), $"{clock.Elapsed}: the metadata timeout, not the hub's 3 s");
        Assert.AreEqual(online.Folder, fallback.Folder, "a revision the cache holds stands in for a hub that hangs");
        Assert.AreEqual(1, log.Count, string.Join("\n", log));
        StringAssert.StartsWith(log[0], $"could not reach {hub.Endpoint} (no answer from {hub.Endpoint} within 1 s (HF_HUB_ETAG_TIMEOUT)); using the cached {Roberta}");
        Refused(() => Get(Roberta, With(NewCache(), etagSeconds: 1, downloadSeconds: 10)), $"cannot download {Roberta} from {hub.Endpoint} (no answer from {hub.Endpoint} within 1 s (HF_HUB_ETAG_TIMEOUT))");

        // A transfer that stops sending meets HF_HUB_DOWNLOAD_TIMEOUT (1 s here) and is resumed with Range; the metadata
        // timeout (10 s here) plays no part.
        hub.HeadDelay = TimeSpan.Zero;
        (hub.StallsLeft, hub.StallFor) = (1, TimeSpan.FromSeconds(4));
        hub.Requests.Clear();
        log.Clear();
        clock.Restart();
        var stalled = Get(Roberta, With(NewCache(), etagSeconds: 10, downloadSeconds: 1));
        Assert.IsTrue(clock.Elapsed < TimeSpan.FromSeconds(3.5), $"{clock.Elapsed}: the stall timeout, not the server's 4 s");
        Assert.AreEqual(1, stalled.Resumes, string.Join("\n", log));
        CollectionAssert.AreEqual(roberta["model.safetensors"], File.ReadAllBytes(Path.Combine(stalled.Folder, "model.safetensors")));
        Assert.IsTrue(log.Any(l => l.Contains("no data for 1 s", StringComparison.Ordinal) && l.Contains("with a Range request", StringComparison.Ordinal)), string.Join("\n", log));
        Assert.IsNotNull(hub.ToStorage.Last().Range, "the second storage request asks for the rest");
    }

    [TestMethod]
    public void SomethingElseAnsweringInTheHubsPlaceIsNotTakenForTheHub()
    {
        var cache = NewCache();
        var online = Get(Roberta, Settings(cache));
        hub.Portal = true;
        log.Clear();
        Assert.AreEqual(online.Folder, Get(Roberta, Settings(cache)).Folder);
        Assert.AreEqual(1, log.Count, string.Join("\n", log));
        StringAssert.Contains(log[0], "answered /lorenza-test/tiny-roberta/resolve/main/config.json without X-Repo-Commit, so it is not a Hugging Face Hub");
        StringAssert.Contains(log[0], "using the cached lorenza-test/tiny-roberta");
        Refused(() => Get(Roberta, Settings(NewCache())), "without X-Repo-Commit, so it is not a Hugging Face Hub", "check HF_ENDPOINT", "HTTPS_PROXY", "HF_HUB_OFFLINE=1");
    }

    [TestMethod]
    public void ACutTransferIsResumedWithARangeRequest()
    {
        var cache = NewCache();
        hub.CutsLeft = 2;
        var result = Get(Roberta, Settings(cache));
        foreach (var line in log) Console.WriteLine(line);
        var storage = hub.ToStorage.ToList();
        foreach (var r in storage) Console.WriteLine($"{r.Method} {r.Path} range={r.Range} status={r.Status}");
        Assert.AreEqual(3, storage.Count, "two cut, the third finished");
        Assert.IsNull(storage[0].Range);
        Assert.IsTrue(storage.Skip(1).All(r => r.Range is not null), "the others asked for the rest");
        Assert.AreEqual(206, storage[^1].Status);
        Assert.AreEqual(2, result.Resumes);
        Assert.AreEqual(0, result.Restarts);
        CollectionAssert.AreEqual(roberta["model.safetensors"], File.ReadAllBytes(Path.Combine(result.Folder, "model.safetensors")));
        Assert.IsTrue(log.Any(l => l.Contains("resuming from byte", StringComparison.Ordinal)));
        AssertNoPartialFiles(cache);
    }

    [TestMethod]
    public void AServerThatIgnoresTheRangeIsReadAgainFromZero()
    {
        var cache = NewCache();
        (hub.CutsLeft, hub.IgnoreRange) = (1, true);
        var result = Get(Roberta, Settings(cache));
        foreach (var line in log) Console.WriteLine(line);
        Assert.AreEqual(1, result.Restarts);
        Assert.IsTrue(hub.ToStorage.Last().Range is not null && hub.ToStorage.Last().Status == 200);
        CollectionAssert.AreEqual(roberta["model.safetensors"], File.ReadAllBytes(Path.Combine(result.Folder, "model.safetensors")));
        Assert.IsTrue(log.Any(l => l.Contains("answered the Range request with the whole file", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void ATransferCutEveryTimeFailsAndLeavesNoPartialFile()
    {
        var cache = NewCache();
        hub.CutsLeft = 1000;
        hub.CutFraction = 0; // not a byte: five tries in a row without progress
        Refused(() => Get(Roberta, Settings(cache)), "model.safetensors of lorenza-test/tiny-roberta", "gave up after 5 retries", "nothing was kept", "run again");
        var blob = Path.Combine(cache, "models--lorenza-test--tiny-roberta", "blobs", HubStandIn.Sha256(roberta["model.safetensors"]));
        Assert.IsFalse(File.Exists(blob));
        Assert.IsFalse(File.Exists(Path.Combine(cache, "models--lorenza-test--tiny-roberta", "snapshots", robertaCommit, "model.safetensors")));
        AssertNoPartialFiles(cache);
    }

    [TestMethod]
    public void ATransferCutAtTheSamePointEveryTime_ByAServerIgnoringRanges_IsGivenUp()
    {
        // Each answer starts again from byte 0 and is cut 40 % in: bytes arrive every time, but never further than before.
        // Found by the mutation tests (a hub answer whose Content-Length exceeds its body), which it made hang for ever.
        var cache = NewCache();
        (hub.CutsLeft, hub.IgnoreRange) = (1000, true);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Refused(() => Get(Roberta, Settings(cache)), "model.safetensors of lorenza-test/tiny-roberta", "gave up after 5 retries", "nothing was kept");
        Assert.IsLessThan(30, clock.Elapsed.TotalSeconds, "given up after the retries, not asked for ever");
        AssertNoPartialFiles(cache);
    }

    [TestMethod]
    public void ACorruptedBlobFailsTheSha256CheckAndIsNotKept()
    {
        var cache = NewCache();
        hub.Corrupt = true;
        var sha = HubStandIn.Sha256(roberta["model.safetensors"]);
        Refused(() => Get(Roberta, Settings(cache)), "model.safetensors of lorenza-test/tiny-roberta arrived corrupted", "SHA-256", sha[..16], "nothing was kept");
        Assert.IsFalse(File.Exists(Path.Combine(cache, "models--lorenza-test--tiny-roberta", "blobs", sha)));
        AssertNoPartialFiles(cache);
    }

    [TestMethod]
    public void NotEnoughDiskSpaceIsRefusedBeforeAnyWeightIsDownloaded()
    {
        var cache = NewCache();
        CacheFiles.FreeSpace = _ => 1_000_000;
        Refused(() => Get(Roberta, Settings(cache)), "not enough disk space for lorenza-test/tiny-roberta", "1.0 MB free", "HF_HUB_CACHE");
        Assert.AreEqual(0, hub.ToStorage.Count(), "no weight was asked for");
    }

    [TestMethod]
    public void AForgedCommitOrEtagIsRefusedBeforeAnythingIsWritten()
    {
        // Both name folders and files of the cache (snapshots/<commit>, blobs/<etag>; the commit is written into refs/):
        // checked where they arrive, so a refused answer leaves nothing behind, not even a ref.
        foreach (var (commit, etag, says) in new (string?, string?, string)[]
                 {
                     ("../../../escaped", null, "the hub sent the commit '../../../escaped', which is not 40 hexadecimal digits; refusing it"),
                     ("main", null, "the hub sent the commit 'main', which is not 40 hexadecimal digits; refusing it"),
                     (null, "../../escaped", "the hub sent the etag '../../escaped', which is not a plain file name; refusing it"),
                     (null, "..", "the hub sent the etag '..', which is not a plain file name; refusing it"),
                 })
        {
            var cache = NewCache();
            (hub.ForgedCommit, hub.ForgedEtag) = (commit, etag);
            Refused(() => Get(Roberta, Settings(cache)), says, "(is HF_ENDPOINT a Hugging Face Hub?)");
            CollectionAssert.AreEqual(Array.Empty<string>(), Entries(cache), "nothing written");
            Assert.IsFalse(File.Exists(Path.Combine(Path.GetDirectoryName(cache)!, "escaped")));
        }
    }

    [TestMethod]
    public void TheHubsRefusalsAreOneLineNamingWhatToDo()
    {
        var cache = NewCache();
        Refused(() => Get("lorenza-test/nope", Settings(cache)), "127.0.0.1 has no model lorenza-test/nope, or it is private", "HF_TOKEN", "huggingface-cli login");
        Refused(() => Get($"{Roberta}@v9", Settings(cache)), $"{Roberta} has no revision 'v9'", "leave out @v9");
        Refused(() => Get("lorenza-test/gated-bert", Settings(cache)), "lorenza-test/gated-bert is a gated model", $"{hub.Endpoint}/lorenza-test/gated-bert", "set HF_TOKEN", "huggingface-cli login");
        var wrong = Refused(() => Get("lorenza-test/gated-bert", Settings(cache, token: "hf_wrongToken123")), "is a gated model and the token from PretrainedModelOptions.HubToken has no access");
        Assert.IsFalse(wrong.Message.Contains("hf_wrongToken123"), "the token is never in a message");
        Refused(() => Get("lorenza-test/no-vocab", Settings(cache)), "lorenza-test/no-vocab has no vocab.json at commit", "roberta model's tokenizer needs");
        Refused(() => Get("lorenza-test/no-weights", Settings(cache)), "has no PyTorch weights", "model.safetensors, model.safetensors.index.json, pytorch_model.bin, pytorch_model.bin.index.json");
        Refused(() => Get("lorenza-test/evil-shards", Settings(cache)), "names the file '../../../escaped.safetensors'", "outside the model's snapshot folder");
        Assert.IsFalse(File.Exists(Path.Combine(cache, "escaped.safetensors")));

        hub.Requests.Clear();
        Refused(() => Get("lorenza-test/gpt2", Settings(cache)), "lorenza-test/gpt2 is a 'gpt2' model", "model types roberta, xlm-roberta, bert, distilbert, electra only", "only config.json");
        var asked = hub.Requests.Select(r => $"{r.Method} {r.Path}").ToList();
        CollectionAssert.AreEqual(new[] { "HEAD /lorenza-test/gpt2/resolve/main/config.json", "GET /lorenza-test/gpt2/resolve/main/config.json" }, asked, string.Join("; ", asked));

        var gated = Get("lorenza-test/gated-bert", Settings(cache, token: HubStandIn.Token));
        Assert.IsTrue(File.Exists(Path.Combine(gated.Folder, "vocab.txt")), "with the token, the gated model downloads");

        // Refused later (no token in this process, an expired one): the cached copy serves, and one line says why.
        log.Clear();
        var cached = Get("lorenza-test/gated-bert", Settings(cache));
        Assert.AreEqual(gated.Folder, cached.Folder);
        Assert.AreEqual(1, log.Count, string.Join("\n", log));
        StringAssert.StartsWith(log[0], "lorenza-test/gated-bert is a gated model: accept its terms at");
        StringAssert.Contains(log[0], $"— using the cached lorenza-test/gated-bert at commit {gated.Commit[..12]}");
    }

    [TestMethod]
    public void ShardedSafetensorsAndPytorchModelBinAreFetchedAndLoad()
    {
        var cache = NewCache();
        var sharded = Get("lorenza-test/tiny-bert", Settings(cache));
        CollectionAssert.AreEqual(new[] { "config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                                          "vocab.txt", "tokenizer_config.json", "special_tokens_map.json" }, sharded.Files.ToArray());
        Assert.IsTrue(File.Exists(Path.Combine(cache, "models--lorenza-test--tiny-bert", ".no_exist", sharded.Commit, "model.safetensors")));
        var (model, report) = ModelFolder.Load(sharded.Folder, ["neg", "pos"]);
        using (model) StringAssert.Contains(report.WeightsFile, "2 shards");
        Assert.AreEqual(2, sharded.VerifiedSha256);
        // config.json is checked against the names and shapes of every shard together, before a model is allocated.
        var edited = NewCache();
        foreach (var file in sharded.Files) File.Copy(Path.Combine(sharded.Folder, file), Path.Combine(edited, file));
        File.WriteAllText(Path.Combine(edited, "config.json"), File.ReadAllText(Path.Combine(edited, "config.json")).Replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3"));
        var wrong = Assert.ThrowsExactly<InvalidDataException>(() => ModelFolder.Load(edited, ["neg", "pos"]));
        StringAssert.Contains(wrong.Message, $"num_hidden_layers = 3, but {edited}'s 2 shards holds 2 layers");

        var bin = Get("lorenza-test/tiny-bert-bin", Settings(cache));
        CollectionAssert.AreEqual(new[] { "config.json", "pytorch_model.bin", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json" }, bin.Files.ToArray());
        var (binModel, binReport) = ModelFolder.Load(bin.Folder, ["neg", "pos"]);
        using (binModel) Assert.AreEqual("pytorch_model.bin", Path.GetFileName(binReport.WeightsFile));

        // Offline, the .no_exist markers tell the sharded repository's files apart as the online plan did.
        var offline = Get("lorenza-test/tiny-bert", Settings(cache, offline: true));
        CollectionAssert.AreEqual(sharded.Files.ToArray(), offline.Files.ToArray());
    }

    [TestMethod]
    public void EachFamilysTokenizerIsFetched_TheSlowFilesElseTokenizerJson_AndTheModelLoads()
    {
        var cache = NewCache();
        var cases = new (string Id, string ModelType, string[] Files)[]
        {
            ("lorenza-test/tiny-xlm-roberta", XlmRobertaConfig.Type, ["config.json", "model.safetensors", "sentencepiece.bpe.model", "tokenizer_config.json"]),
            ("lorenza-test/tiny-electra", ElectraConfig.Type, ["config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"]),
            ("lorenza-test/tiny-distilbert-fast", DistilBertConfig.Type, ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]),
        };
        foreach (var (id, modelType, files) in cases)
        {
            hub.Requests.Clear();
            var got = Get(id, Settings(cache));
            CollectionAssert.AreEqual(files, got.Files.ToArray(), $"{id}: {string.Join(", ", got.Files)}");
            Assert.IsFalse(hub.Requests.Any(r => r.Method == "GET" && files.All(f => !r.Path.EndsWith("/" + f, StringComparison.Ordinal)) && r.Path.Contains("/resolve/", StringComparison.Ordinal)),
                           $"{id}: nothing downloaded beyond the plan: {string.Join("; ", hub.Requests.Select(r => $"{r.Method} {r.Path}"))}");
            var (model, report) = ModelFolder.Load(got.Folder, ["neg", "pos"]);
            using (model)
            {
                Assert.AreEqual(modelType, model.Config.ModelType, id);
                Assert.AreEqual(0, report.FreshlyInitialized.Count, id);
            }
            var tokenizer = ModelFolder.LoadTokenizer(got.Folder);
            Assert.IsTrue(tokenizer.EncodeSequence("a good film", null, 32).Length > 2, id);

            var offline = Get(id, Settings(cache, offline: true));
            CollectionAssert.AreEqual(files, offline.Files.ToArray(), $"{id} offline");
        }
    }

    [TestMethod]
    public void RevisionsPinCommitsAndARenamedRepositoryIsFollowedOnTheHubsHost()
    {
        var cache = NewCache();
        var v1 = Get($"{Roberta}@v1", Settings(cache));
        Assert.AreEqual(robertaV1Commit, v1.Commit);
        Assert.AreEqual(robertaV1Commit, File.ReadAllText(Path.Combine(cache, "models--lorenza-test--tiny-roberta", "refs", "v1")));
        CollectionAssert.AreEqual(robertaV1["model.safetensors"], File.ReadAllBytes(Path.Combine(v1.Folder, "model.safetensors")));
        Assert.IsTrue(hub.ToHub.Where(r => r.Path.Contains("/resolve/", StringComparison.Ordinal)).Skip(2).All(r => r.Path.Contains($"/resolve/{robertaV1Commit}/", StringComparison.Ordinal)),
                      "after config.json, every file is asked for at the commit the revision pointed to");

        var main = Get(Roberta, Settings(cache));
        Assert.AreNotEqual(v1.Folder, main.Folder);
        Assert.AreEqual(2, PretrainedModels.CachedHubModels(new() { HubCacheDirectory = cache }).Count, "two snapshots of one repository");

        hub.Requests.Clear();
        var renamed = Get("old-owner/tiny-roberta", Settings(cache, token: HubStandIn.Token));
        Assert.AreEqual(robertaCommit, renamed.Commit);
        Assert.IsTrue(hub.Requests.Any(r => r.Status == 307 && r.Path.StartsWith("/old-owner/", StringComparison.Ordinal)));
        Assert.IsTrue(hub.ToHub.All(r => r.Authorization is not null), "the relative redirect stays on the hub's host, with the token");
        Assert.IsTrue(Directory.Exists(Path.Combine(cache, "models--old-owner--tiny-roberta", "snapshots", robertaCommit)), "cached under the name asked for, as huggingface_hub does");
    }

    [TestMethod]
    public void ConcurrentGetsDownloadEachBlobOnce()
    {
        var cache = NewCache();
        var results = Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
            HubModels.Get(HubModelId.Parse(Roberta), new PretrainedModelOptions(), Settings(cache)))).Select(t => t.Result).ToList();
        Assert.AreEqual(1, results.Select(r => r.Folder).Distinct().Count());
        Assert.AreEqual(1, hub.ToStorage.Count(), "the blob lock made the others wait and use the first one's blob");
        Assert.AreEqual(1, results.Sum(r => r.VerifiedSha256));
        AssertNoPartialFiles(cache);
    }

    [TestMethod]
    public void TheEnginesTrainerTakesAHubIdAndResolvesItOnce()
    {
        var cache = NewCache();
        string?[] saved = [Environment.GetEnvironmentVariable("HF_ENDPOINT"), Environment.GetEnvironmentVariable("HF_HUB_CACHE"), Environment.GetEnvironmentVariable("HF_HUB_OFFLINE")];
        try
        {
            Environment.SetEnvironmentVariable("HF_ENDPOINT", hub.Endpoint);
            Environment.SetEnvironmentVariable("HF_HUB_CACHE", cache);
            Environment.SetEnvironmentVariable("HF_HUB_OFFLINE", null);
            var data = Microsoft.ML.Lorenza.Datasets.TextDataset.FromExamples(Enumerable.Range(0, 16).Select(i => new Microsoft.ML.Lorenza.Datasets.TextExample(HubFixtures.Texts[i % 8], null, i % 2 == 0 ? "pos" : "neg")));
            var options = new Microsoft.ML.Lorenza.Configuration.TrainingOptions
            {
                Model = { PretrainedModelPath = Roberta }, Data = { MaxSequenceLength = 32 }, Loop = { MaxSteps = 2, BatchSize = 8 }, Compute = { Device = "cpu" },
            };
            var (classifier, _) = Microsoft.ML.Lorenza.Training.TextClassifierTrainer.Train(data, null, options);
            classifier.Dispose();
            Assert.AreEqual(robertaCommit, options.Model.ResolvedPretrained!.Commit);
            Assert.AreEqual(PretrainedSource.Hub, options.Model.ResolvedPretrained.Source);
            Assert.AreEqual(Path.Combine(cache, "models--lorenza-test--tiny-roberta", "snapshots", robertaCommit), options.Model.ResolvedPretrained.Folder);
            var heads = hub.Requests.Count(r => r.Method == "HEAD");
            Assert.AreEqual(heads, hub.Requests.Count(r => r.Method == "HEAD" && r.Path.EndsWith("/config.json", StringComparison.Ordinal)) * 6, "one resolution: each file's metadata asked for once");
        }
        finally
        {
            Environment.SetEnvironmentVariable("HF_ENDPOINT", saved[0]);
            Environment.SetEnvironmentVariable("HF_HUB_CACHE", saved[1]);
            Environment.SetEnvironmentVariable("HF_HUB_OFFLINE", saved[2]);
        }
    }

    [TestMethod]
    public void ProgressIsReportedWithBytesRateAndTimeLeft()
    {
        var cache = NewCache();
        var reports = new List<DownloadProgress>();
        Get("lorenza-test/tiny-bert", Settings(cache), new SynchronousProgress(reports.Add));
        Assert.IsTrue(reports.Count >= 1);
        var last = reports[^1];
        Assert.IsTrue(last.Finished);
        Assert.AreEqual(last.TotalBytes, last.Bytes);
        Assert.IsTrue(last.BytesPerSecond > 0);
        Console.WriteLine(last.Describe());
        StringAssert.StartsWith(last.Describe(), "100 % (");
        Assert.AreEqual(" 10 % (10.8 of 100.0 MB)", new DownloadProgress(Roberta, "model.safetensors", 10_800_000, 100_000_000, 0, null, false).Describe(),
                        "no rate before it can be told (not 0.0 MB/s)");
        Assert.AreEqual(" 40 % (40.0 of 100.0 MB) 20.0 MB/s, 3 s left", new DownloadProgress(Roberta, "model.safetensors", 40_000_000, 100_000_000, 20e6, TimeSpan.FromSeconds(3), false).Describe());

        // Without a progress bar, plain lines through the log.
        log.Clear();
        Get(Roberta, Settings(NewCache()));
        Assert.IsTrue(log.Any(l => l.StartsWith($"downloading {Roberta} (commit {robertaCommit[..12]})", StringComparison.Ordinal)), string.Join("\n", log));
        Assert.IsTrue(log.Any(l => l.StartsWith("downloaded 5 files of lorenza-test/tiny-roberta", StringComparison.Ordinal) && l.Contains("SHA-256 checked for 1 LFS file")), string.Join("\n", log));
    }

    private sealed class SynchronousProgress(Action<DownloadProgress> report) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value) => report(value);
    }
}
