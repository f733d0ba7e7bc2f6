using System.Text;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Hub;

/// <summary>
/// The `lorenza` tool with hub ids, run as a user runs it (a fresh process, the HF_* variables set): train --model org/name
/// from the stand-in, again with HF_HUB_OFFLINE=1 from the cache alone, `pretrained get` and `pretrained list`, the
/// errors as the one line the user sees, the token in no output and no file, and HTTP_PROXY honoured.
/// </summary>
[TestClass]
public sealed class HubCliTests
{
    private const string Roberta = "lorenza-test/tiny-roberta";
    private static HubStandIn hub = null!;
    private static string robertaCommit = "";
    private string folder = "";

    [ClassInitialize]
    public static void StartTheStandIn(TestContext _)
    {
        hub = new HubStandIn();
        var repo = hub.AddRepo(Roberta);
        repo.AddCommit(HubFixtures.TinyRoberta(seed: 4), "v1");
        robertaCommit = repo.AddCommit(HubFixtures.TinyRoberta(seed: 1));
        hub.AddRepo("lorenza-test/gpt2").AddCommit(HubFixtures.Unsupported());
        hub.AddRepo("lorenza-test/gated-roberta", gated: true).AddCommit(HubFixtures.TinyRoberta(seed: 2));
    }

    [ClassCleanup]
    public static void StopTheStandIn() => hub.Dispose();

    [TestInitialize]
    public void MakeAFolder()
    {
        folder = Directory.CreateTempSubdirectory("lorenza-hub-cli-").FullName;
        hub.Requests.Clear();
    }

    [TestCleanup]
    public void DeleteTheFolder() => Directory.Delete(folder, recursive: true);

    private Dictionary<string, string> Environment(string cache, params (string Name, string Value)[] more)
    {
        var env = new Dictionary<string, string>
        {
            ["HF_ENDPOINT"] = hub.Endpoint, ["HF_HUB_CACHE"] = cache, ["HF_HOME"] = Path.Combine(folder, "hf-home"), ["HF_HUB_DOWNLOAD_TIMEOUT"] = "5",
        };
        foreach (var (name, value) in more) env[name] = value;
        return env;
    }

    private static readonly string[] Inherited = ["HF_TOKEN", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_TOKEN_PATH", "HUGGING_FACE_HUB_TOKEN", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY", "no_proxy"];

    private static (int ExitCode, string Stdout, string Stderr) Lorenza(string arguments, Dictionary<string, string> environment, string? workingDirectory = null)
    {
        var result = ProcessRunner.Run("dotnet", $"\"{Cli.DllPath}\" {arguments}", null, TimeSpan.FromMinutes(5), workingDirectory, environment,
                                       removeEnvironment: Inherited.Where(v => !environment.ContainsKey(v)));
        Console.WriteLine($"$ lorenza {arguments}  (exit {result.ExitCode})\n{result.Stdout}{result.Stderr}");
        return result;
    }

    private static void AssertOneErrorLine(string stderr, params string[] parts)
    {
        var lines = stderr.TrimEnd('\n').Split('\n');
        Assert.AreEqual(1, lines.Length, stderr);
        StringAssert.StartsWith(lines[0], "error: ");
        foreach (var part in parts) StringAssert.Contains(lines[0], part);
    }

    [TestMethod]
    public void TrainFromTheHubThenOfflineFromTheCache_TheTokenInNoOutputAndNoFile()
    {
        var cache = Path.Combine(folder, "hub-cache");
        var data = Path.Combine(folder, "reviews.tsv");
        File.WriteAllLines(data, ["text\tlabel", .. Enumerable.Range(0, 32).Select(i => $"{HubFixtures.Texts[i % 8]} {i}\t{(i % 8 % 2 == 0 ? "pos" : "neg")}")]);
        var online = Environment(cache, ("HF_TOKEN", HubStandIn.Token));
        const string training = "--max-steps 2 --batch-size 8 --max-length 32 --seed 1 --device cpu --checkpoint-every 1 --keep-checkpoint";

        var (code, stdout, stderr) = Lorenza($"train reviews.tsv --model {Roberta} {training} -o model", online, folder);
        Assert.AreEqual(0, code, stderr);
        var snapshot = Path.Combine(cache, "models--lorenza-test--tiny-roberta", "snapshots", robertaCommit);
        StringAssert.Contains(stdout, $"pretrained model '{Roberta}': {snapshot} (commit {robertaCommit})");
        StringAssert.Contains(stderr, $"downloading {Roberta} (commit {robertaCommit[..12]})");
        StringAssert.Contains(stderr, "downloaded 5 files of lorenza-test/tiny-roberta");
        StringAssert.Contains(File.ReadAllText(Path.Combine(folder, "model", "lorenza.json")), $"\"pretrained\": \"{Roberta}\"");
        Assert.IsTrue(File.Exists(Path.Combine(folder, "model", "checkpoint.safetensors")));
        Assert.IsTrue(hub.ToStorage.Any() && hub.ToStorage.All(r => r.Authorization is null), "the token never reached the storage host");
        Assert.IsTrue(hub.ToHub.Any(r => r.Authorization == $"Bearer {HubStandIn.Token}"), "the hub got it");

        // Offline: no request at all, the same snapshot.
        var before = hub.Requests.Count;
        (code, stdout, stderr) = Lorenza($"train reviews.tsv --model {Roberta} {training} -o model2", Environment(cache, ("HF_HUB_OFFLINE", "1")), folder);
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stdout, $"pretrained model '{Roberta}': {snapshot}");
        Assert.AreEqual(before, hub.Requests.Count, "HF_HUB_OFFLINE=1 made no request");
        Assert.IsFalse(stderr.Contains("downloading"), stderr);

        var token = Encoding.UTF8.GetBytes(HubStandIn.Token);
        Assert.IsFalse(stdout.Contains(HubStandIn.Token) || stderr.Contains(HubStandIn.Token));
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
            Assert.AreEqual(-1, File.ReadAllBytes(file).AsSpan().IndexOf(token), $"{file} holds the token");
    }

    [TestMethod]
    public void PretrainedGetAndListShowHubModels_AndTheErrorsAreOneLine()
    {
        var cache = Path.Combine(folder, "hub-cache");
        var env = Environment(cache);
        var (code, stdout, stderr) = Lorenza($"pretrained list", env);
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stdout, $"Hugging Face Hub cache {cache}: no models");

        (code, stdout, stderr) = Lorenza($"pretrained get {Roberta}", env);
        Assert.AreEqual(0, code, stderr);
        var snapshot = Path.Combine(cache, "models--lorenza-test--tiny-roberta", "snapshots", robertaCommit);
        Assert.AreEqual(snapshot + "\n", stdout, "stdout is the folder alone");
        StringAssert.Contains(stderr, $"{Roberta} at commit {robertaCommit[..12]}: {snapshot}");
        (code, stdout, _) = Lorenza($"pretrained get {Roberta}@v1", env);
        Assert.AreEqual(0, code);

        (code, stdout, stderr) = Lorenza("pretrained list", env);
        Assert.AreEqual(0, code, stderr);
        var rows = stdout.Split('\n').Where(l => l.StartsWith(Roberta, StringComparison.Ordinal)).ToList();
        Assert.AreEqual(2, rows.Count, stdout);
        var main = rows.Single(r => r.Contains(robertaCommit, StringComparison.Ordinal));
        StringAssert.Matches(main, new System.Text.RegularExpressions.Regex($@"^{Roberta}\s+{robertaCommit}\s+main\s+5\s+0\.\d MB$"));
        StringAssert.Contains(rows.Single(r => r != main), " v1 ");

        (code, _, stderr) = Lorenza("pretrained get lorenza-test/nope", env);
        Assert.AreEqual(1, code);
        AssertOneErrorLine(stderr, "has no model lorenza-test/nope, or it is private", "HF_TOKEN");
        (code, _, stderr) = Lorenza("pretrained get lorenza-test/gated-roberta", env);
        Assert.AreEqual(1, code);
        AssertOneErrorLine(stderr, "lorenza-test/gated-roberta is a gated model: accept its terms at", "HF_TOKEN", "huggingface-cli login");
        (code, _, stderr) = Lorenza("pretrained get lorenza-test/gpt2", env);
        Assert.AreEqual(1, code);
        AssertOneErrorLine(stderr, "lorenza-test/gpt2 is a 'gpt2' model", "roberta, xlm-roberta, bert, distilbert, electra");
        (code, _, stderr) = Lorenza($"pretrained get {Roberta}@nope", env);
        Assert.AreEqual(1, code);
        AssertOneErrorLine(stderr, "has no revision 'nope'");
        (code, _, stderr) = Lorenza($"pretrained get {Roberta}", Environment(Path.Combine(folder, "empty-cache"), ("HF_HUB_OFFLINE", "1")));
        Assert.AreEqual(1, code);
        AssertOneErrorLine(stderr, "HF_HUB_OFFLINE is set and the hub cache", Path.Combine(folder, "empty-cache"), Roberta);
        (code, _, stderr) = Lorenza($"pretrained get {Roberta}", Environment(Path.Combine(folder, "empty-cache"), ("HF_ENDPOINT", "http://127.0.0.1:9")));
        Assert.AreEqual(1, code);
        AssertOneErrorLine(stderr, $"cannot download {Roberta} from http://127.0.0.1:9", "HF_HUB_OFFLINE=1");
        (code, _, stderr) = Lorenza("pretrained get roberta-base", env);
        Assert.AreEqual(2, code);
        AssertOneErrorLine(stderr, "unknown pretrained model 'roberta-base'", "org/name");
    }

    [TestMethod]
    public void TheProxyVariablesAreHonoured()
    {
        using var proxy = new ForwardProxy();
        var cache = Path.Combine(folder, "hub-cache");
        var (code, stdout, stderr) = Lorenza($"pretrained get {Roberta}", Environment(cache, ("HTTP_PROXY", proxy.Url), ("HF_TOKEN", HubStandIn.Token)));
        Assert.AreEqual(0, code, stderr);
        foreach (var line in proxy.RequestLines) Console.WriteLine(line);
        Assert.IsTrue(proxy.RequestLines.Any(l => l.StartsWith($"HEAD {hub.Endpoint}/{Roberta}/resolve/main/config.json", StringComparison.Ordinal)), "metadata through the proxy");
        Assert.IsTrue(proxy.RequestLines.Any(l => l.StartsWith($"GET http://{hub.StorageHost}/lfs/", StringComparison.Ordinal)), "the weights through the proxy");
        Assert.IsTrue(File.Exists(Path.Combine(stdout.Trim(), "model.safetensors")));
    }
}
