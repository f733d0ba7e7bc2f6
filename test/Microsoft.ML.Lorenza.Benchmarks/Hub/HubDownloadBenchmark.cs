using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.ML.Lorenza.Pretrained;
using Microsoft.ML.Lorenza.Pretrained.Hub;
using Microsoft.ML.Lorenza.Tests.Hub;

namespace Microsoft.ML.Lorenza.Benchmarks.Hub;

/// <summary>
/// A model download from the hub stand-in the tests use (HTTP on 127.0.0.1, weights redirected to localhost), with a
/// model.safetensors of --megabytes MB (default 100; --quick 20): a clean download, one whose connection is cut twice
/// (resumed with Range), one from a server that ignores ranges (read again from zero), one corrupted on the way
/// (refused by the SHA-256 check, nothing kept), and a second call (metadata only) and an offline one. Bytes, seconds
/// and rates per scenario; the retry waits are the library's defaults (1 s, then 2 s). `--serve SECONDS [--cuts N]` only
/// serves the repository for that long, to try the tool against it (HF_ENDPOINT=the address it prints).
/// </summary>
public sealed class HubDownloadBenchmark : IBenchmark
{
    public string Name => "hub-download";
    public string Description => "hub source against the stand-in: download, resumed, restarted, corrupted, cached and offline (--megabytes N)";

    public void Run(BenchmarkContext context)
    {
        var megabytes = Option(context.Args, "--megabytes") ?? (context.Quick ? 20 : 100);
        var weights = new byte[megabytes * 1_000_000];
        new Random(1).NextBytes(weights);
        var files = new Dictionary<string, byte[]>
        {
            ["config.json"] = Encoding.UTF8.GetBytes("""{"model_type": "roberta", "hidden_size": 768, "num_hidden_layers": 12}"""),
            ["model.safetensors"] = weights,
            ["vocab.json"] = Encoding.UTF8.GetBytes("""{"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}"""),
            ["merges.txt"] = Encoding.UTF8.GetBytes("#version: 0.2\n"),
        };
        using var hub = new HubStandIn();
        hub.AddRepo("lorenza-bench/model").AddCommit(files);
        if (Option(context.Args, "--serve") is { } serveSeconds)
        {
            // For trying the tool by hand: HF_ENDPOINT=<endpoint> lorenza pretrained get lorenza-bench/model
            hub.CutsLeft = Option(context.Args, "--cuts") ?? 0;
            Console.WriteLine($"serving lorenza-bench/model ({megabytes} MB of weights, {hub.CutsLeft} cut transfers) at {hub.Endpoint} for {serveSeconds} s");
            Thread.Sleep(TimeSpan.FromSeconds(serveSeconds));
            return;
        }
        var root = Directory.CreateTempSubdirectory("lorenza-bench-hub-").FullName;
        var rows = new List<string[]> { new[] { "scenario", "outcome", "bytes", "seconds", "MB/s", "resumed", "restarted", "storage GETs" } };
        var results = new List<object>();
        try
        {
            var shaClock = Stopwatch.StartNew();
            SHA256.HashData(weights);
            var shaSeconds = shaClock.Elapsed.TotalSeconds;

            void Scenario(string name, string cache, Action<HubStandIn> setUp, bool offline = false)
            {
                hub.Requests.Clear();
                (hub.CutsLeft, hub.IgnoreRange, hub.Corrupt, hub.CutFraction) = (0, false, false, 0.4);
                setUp(hub);
                var settings = new HubSettings
                {
                    Endpoint = new Uri(hub.Endpoint), CacheRoot = cache, Offline = offline,
                    EtagTimeout = TimeSpan.FromSeconds(10), DownloadTimeout = TimeSpan.FromSeconds(10),
                };
                var log = new List<string>();
                var clock = Stopwatch.StartNew();
                string outcome;
                HubResult? result = null;
                try
                {
                    result = HubModels.Get(HubModelId.Parse("lorenza-bench/model"), new PretrainedModelOptions { Log = log.Add }, settings);
                    outcome = result.FilesDownloaded > 0 ? $"{result.FilesDownloaded} files, SHA-256 checked for {result.VerifiedSha256}" : offline ? "from the cache, no request" : "cached: metadata only";
                }
                catch (PretrainedModelException e)
                {
                    outcome = "refused: " + e.Message[..Math.Min(e.Message.Length, 60)] + "…";
                    log.Add("error: " + e.Message);
                }
                var seconds = clock.Elapsed.TotalSeconds;
                var bytes = result?.BytesDownloaded ?? 0;
                var gets = hub.ToStorage.Count();
                foreach (var line in log) Console.WriteLine($"  [{name}] {line}");
                rows.Add([name, outcome, bytes.ToString("N0", CultureInfo.InvariantCulture), seconds.ToString("F2", CultureInfo.InvariantCulture),
                          bytes > 0 ? (bytes / seconds / 1e6).ToString("F1", CultureInfo.InvariantCulture) : "-", (result?.Resumes ?? 0).ToString(CultureInfo.InvariantCulture),
                          (result?.Restarts ?? 0).ToString(CultureInfo.InvariantCulture), gets.ToString(CultureInfo.InvariantCulture)]);
                results.Add(new { name, outcome, bytes, seconds, resumes = result?.Resumes ?? 0, restarts = result?.Restarts ?? 0, storageGets = gets, requests = hub.Requests.Count });
            }

            var clean = Path.Combine(root, "clean");
            Scenario("clean download", clean, _ => { });
            Scenario("again (cached)", clean, _ => { });
            Scenario("offline (HF_HUB_OFFLINE)", clean, _ => { }, offline: true);
            Scenario("cut twice, resumed", Path.Combine(root, "cut"), h => h.CutsLeft = 2);
            Scenario("range ignored, restarted", Path.Combine(root, "restart"), h => (h.CutsLeft, h.IgnoreRange) = (1, true));
            Scenario("corrupted on the way", Path.Combine(root, "corrupt"), h => h.Corrupt = true);
            BenchmarkContext.PrintTable(rows);
            Console.WriteLine($"SHA-256 of the {megabytes} MB blob alone: {shaSeconds:F2} s ({megabytes / shaSeconds:F0} MB/s); it is computed while the bytes arrive.");
            context.Save(new { megabytes, sha256Seconds = shaSeconds, scenarios = results });
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static int? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var value) ? value : null;
    }
}
