using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.MLNet.Tests;

/// <summary>
/// The Model Builder style samples under examples/ run end to end (short training) in a fresh process. The
/// sentiment sample also scores its ONNX export with ML.NET's ApplyOnnxModel (ONNX Runtime, tokenizer outside
/// the graph) and prints the largest difference from the LORENZA transformer's Score, checked here.
/// </summary>
[TestClass]
public sealed class ExampleAppTests
{
    [TestMethod]
    [DataRow("SentimentAnalysis", "SentimentModel", "test accuracy", true)]
    [DataRow("GitHubIssueArea", "IssueAreaModel", "test micro-accuracy", false)]
    public void SampleTrainsSavesExportsAndPredicts(string app, string model, string metricLine, bool scoresOnnx)
    {
        var dll = SampleDll(app);
        var output = Directory.CreateTempSubdirectory("lorenza-sample-");
        try
        {
            var (exit, stdout, stderr) = ProcessRunner.Run("dotnet", $"\"{dll}\" --epochs 1 --output \"{output.FullName}\"", null, TimeSpan.FromMinutes(5));
            Console.WriteLine(stdout);
            Assert.AreEqual(0, exit, stderr);
            StringAssert.Contains(stdout, metricLine);
            StringAssert.Contains(stdout, "→");
            foreach (var file in new[] { model + ".mlnet", model + ".onnx", "labels.json", "vocab.txt" })
                Assert.IsTrue(File.Exists(Path.Combine(output.FullName, file)), $"{file} missing in the sample's output");
            if (scoresOnnx)
            {
                // The same float32 network on two runtimes (libtorch through the transformer, ONNX Runtime through
                // ApplyOnnxModel, inputs padded to 64 rather than to the batch's longest) differs by rounding only:
                // ~3e-8 measured. After 1 epoch the model is far from certain, so mistakes show small but far above
                // 1e-5: an attention mask of all ones gave ~1e-3, ids without <s> ~6e-3.
                var rows = Regex.Matches(stdout, @"LORENZA \[([^\]]*)\], ONNX \[([^\]]*)\]");
                Assert.AreEqual(5, rows.Count, "the sample prints five test rows scored both ways");
                var printed = Regex.Match(stdout, @"max abs difference between ONNX and LORENZA probabilities over 5 test rows: (\S+)");
                Assert.IsTrue(printed.Success, "the sample prints the max abs difference");
                var difference = double.Parse(printed.Groups[1].Value, CultureInfo.InvariantCulture);
                Assert.IsTrue(difference <= 1e-5, $"ONNX vs LORENZA probabilities differ by {difference:E2} > 1e-5");
                // The printed rows agree with the printed figure (to their 6 decimals) and are probabilities.
                foreach (Match row in rows)
                {
                    var lorenza = row.Groups[1].Value.Split(", ").Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                    var onnx = row.Groups[2].Value.Split(", ").Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                    Assert.AreEqual(2, onnx.Length);
                    Assert.AreEqual(1.0, onnx.Sum(), 2e-6, "ONNX probabilities sum to 1");
                    for (var k = 0; k < 2; k++) Assert.AreEqual(lorenza[k], onnx[k], difference + 1e-6, row.Value);
                }
            }
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    [TestMethod]
    [DataRow("SentimentAnalysis")]
    [DataRow("GitHubIssueArea")]
    public void SampleExplainsItsOptionsAndRefusesUnknownOnes(string app)
    {
        var dll = SampleDll(app);
        var (exit, stdout, stderr) = ProcessRunner.Run("dotnet", $"\"{dll}\" --help", null, TimeSpan.FromMinutes(1));
        Assert.AreEqual(0, exit, stderr);
        foreach (var option in new[] { "Usage:", "--epochs N", "--output FOLDER", "--model NAME", "--from-scratch" })
            StringAssert.Contains(stdout, option);
        (exit, _, stderr) = ProcessRunner.Run("dotnet", $"\"{dll}\" --epoch 2", null, TimeSpan.FromMinutes(1));
        Assert.AreEqual(2, exit);
        Assert.AreEqual("error: unknown option --epoch; run with --help for the options.", stderr.Trim());
        (exit, _, stderr) = ProcessRunner.Run("dotnet", $"\"{dll}\" --epochs many", null, TimeSpan.FromMinutes(1));
        Assert.AreEqual(2, exit);
        Assert.AreEqual("error: --epochs many is not a whole number >= 1.", stderr.Trim());
    }

    private static string SampleDll(string app)
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        return Path.Combine(SharedData.RepoRoot, "examples", app, "bin", configuration, "net10.0", app + ".dll");
    }
}
