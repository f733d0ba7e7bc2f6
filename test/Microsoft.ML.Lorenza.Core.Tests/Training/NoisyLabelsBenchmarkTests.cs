using System.Text.Json;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Training;

/// <summary>
/// `bench noisy-labels` (issue #30) at a tiny size in a fresh process: the flipped rows are recorded (exactly
/// round(rate·N), distinct, in range), every arm runs every epoch at the product's default rate for its family, the
/// per-epoch figures are proportions, and `--summarize` rebuilds the table from the results file.
/// </summary>
[TestClass]
public sealed class NoisyLabelsBenchmarkTests
{
    private static readonly string Benchmarks = Path.Combine(SharedData.RepoRoot, "test", "Microsoft.ML.Lorenza.Benchmarks", "bin", "Release", "net10.0", "Microsoft.ML.Lorenza.Benchmarks.dll");

    [TestMethod]
    public void ATinyRun_RecordsTheFlippedRows_EveryArmsEpochs_AndSummarizes()
    {
        var shared = SharedData.RequirePath("data", "sst2");
        if (!File.Exists(Benchmarks)) Assert.Inconclusive($"{Benchmarks} is not built (./build.sh build builds it).");
        var name = $"noisy-labels-test-{Guid.NewGuid():N}";
        var results = Path.Combine(SharedData.RepoRoot, "artifacts", "bench", name + ".json");
        var environment = new Dictionary<string, string> { ["LORENZA_SHARED_DIR"] = Path.GetDirectoryName(Path.GetDirectoryName(shared))! };
        try
        {
            var (code, stdout, stderr) = ProcessRunner.Run("dotnet", $"\"{Benchmarks}\" noisy-labels --train 40 --dev 32 --epochs 2 --seeds 1 --noise 0.25 --arms adamw,lorenza --out {name}",
                null, TimeSpan.FromMinutes(5), SharedData.RepoRoot, environment);
            Assert.AreEqual(0, code, stdout + stderr);
            StringAssert.Contains(stdout, "every arm at the product's defaults: lr 1e-4 AdamW/SAM, 1e-3 GaLore/LORENZA");

            using var json = JsonDocument.Parse(File.ReadAllText(results));
            var root = json.RootElement.GetProperty("results");
            Assert.IsTrue(root.GetProperty("complete").GetBoolean());
            var flipped = root.GetProperty("flipped_rows").GetProperty("noise 0.25 seed 0").EnumerateArray().Select(r => r.GetInt32()).ToList();
            Assert.HasCount(10, flipped, "round(0.25 · 40) rows flipped");
            Assert.AreEqual(10, flipped.Distinct().Count());
            Assert.IsTrue(flipped.All(r => r is >= 0 and < 40));

            var runs = root.GetProperty("runs").EnumerateArray().ToList();
            CollectionAssert.AreEqual(new[] { "adamw", "lorenza" }, runs.Select(r => r.GetProperty("Arm").GetString()).ToArray());
            foreach (var run in runs)
            {
                var epochs = run.GetProperty("Epochs").EnumerateArray().ToList();
                Assert.HasCount(2, epochs);
                foreach (var epoch in epochs)
                    foreach (var figure in new[] { "DevAccuracy", "FlippedMemorized", "CleanTrainAccuracy" })
                        Assert.IsTrue(epoch.GetProperty(figure).GetDouble() is >= 0 and <= 1, $"{figure} is a proportion");
            }

            var (summaryCode, summary, summaryErrors) = ProcessRunner.Run("dotnet", $"\"{Benchmarks}\" noisy-labels --summarize \"{results}\" --out {name}-merged",
                null, TimeSpan.FromMinutes(2), SharedData.RepoRoot);
            Assert.AreEqual(0, summaryCode, summary + summaryErrors);
            StringAssert.Contains(summary, "best dev acc");
            Assert.IsTrue(summary.Split('\n').Any(l => l.StartsWith("25 %", StringComparison.Ordinal) && l.Contains("lorenza", StringComparison.Ordinal)), summary);
        }
        finally
        {
            foreach (var file in Directory.GetFiles(Path.GetDirectoryName(results)!, name + "*")) File.Delete(file);
        }
    }
}
