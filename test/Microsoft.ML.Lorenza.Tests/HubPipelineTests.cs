using Microsoft.ML.Lorenza.Tests.Hub;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.MLNet.Tests;

/// <summary>
/// PretrainedModelPath = "org/name": the first Fit downloads the model from the hub (the stand-in, through HF_ENDPOINT) into
/// the hub cache named by HF_HUB_CACHE, with its progress in the Log; a second Fit with HF_HUB_OFFLINE=1 makes no request
/// and trains from the cache.
/// </summary>
[TestClass]
public sealed class HubPipelineTests
{
    private static readonly string[] Variables = ["HF_ENDPOINT", "HF_HUB_CACHE", "HF_HUB_OFFLINE", "HF_TOKEN", "HF_HOME"];

    [TestMethod]
    public void PretrainedModelPathTakesAHubId_ASecondFitOfflineUsesTheCache()
    {
        var saved = Variables.ToDictionary(v => v, Environment.GetEnvironmentVariable);
        var cache = Directory.CreateTempSubdirectory("lorenza-mlnet-hub-").FullName;
        using var hub = new HubStandIn();
        var commit = hub.AddRepo("lorenza-test/tiny-bert").AddCommit(HubFixtures.TinyBert("shards"));
        try
        {
            foreach (var v in Variables) Environment.SetEnvironmentVariable(v, null);
            Environment.SetEnvironmentVariable("HF_ENDPOINT", hub.Endpoint);
            Environment.SetEnvironmentVariable("HF_HUB_CACHE", cache);
            Environment.SetEnvironmentVariable("HF_HOME", Path.Combine(cache, "home"));
            var snapshot = Path.Combine(cache, "models--lorenza-test--tiny-bert", "snapshots", commit);

            var log = Fit();
            Assert.IsTrue(log.Contains($"pretrained model 'lorenza-test/tiny-bert': {snapshot} (commit {commit})"), string.Join("\n", log));
            Assert.IsTrue(log.Any(l => l.StartsWith("downloaded 7 files of lorenza-test/tiny-bert", StringComparison.Ordinal)), string.Join("\n", log));
            Assert.IsTrue(hub.ToStorage.Count() == 2, "two shards from the storage host");

            Environment.SetEnvironmentVariable("HF_HUB_OFFLINE", "1");
            var requests = hub.Requests.Count;
            log = Fit();
            Assert.AreEqual(requests, hub.Requests.Count, "HF_HUB_OFFLINE=1: no request");
            Assert.IsTrue(log.Contains($"pretrained model 'lorenza-test/tiny-bert': {snapshot} (commit {commit})"), string.Join("\n", log));
            Assert.IsFalse(log.Any(l => l.StartsWith("downloading", StringComparison.Ordinal)));

            var e = Assert.ThrowsExactly<DirectoryNotFoundException>(() => new MLContext().MulticlassClassification.Trainers.Lorenza(new LorenzaTrainer.Options { PretrainedModelPath = "roberta-base" }));
            StringAssert.StartsWith(e.Message, "PretrainedModelPath = 'roberta-base': Pretrained model folder not found: roberta-base;");
            StringAssert.Contains(e.Message, "Hugging Face Hub id (org/name");
        }
        finally
        {
            foreach (var (name, value) in saved) Environment.SetEnvironmentVariable(name, value);
            Directory.Delete(cache, recursive: true);
        }
    }

    private static List<string> Fit()
    {
        var ml = new MLContext(seed: 1);
        var log = new List<string>();
        var options = TopicData.Options(epochs: 1);
        options.PretrainedModelPath = "lorenza-test/tiny-bert";
        options.Architecture = null; // TopicData's options train a tiny preset from scratch
        options.MaxSteps = 3;
        options.Log = log.Add;
        var model = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.Lorenza(options))
            .Fit(ml.Data.LoadFromEnumerable(TopicData.Rows(48, seed: 1)));
        foreach (var t in ((IEnumerable<ITransformer>)model).OfType<IDisposable>()) t.Dispose();
        foreach (var line in log) Console.WriteLine(line);
        return log;
    }
}
