using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.MLNet.Tests;

/// <summary>The Model Builder style samples under examples/ run end to end (short training) in a fresh process.</summary>
[TestClass]
public sealed class ExampleAppTests
{
    [TestMethod]
    [DataRow("SentimentAnalysis", "SentimentModel", "test accuracy")]
    [DataRow("GitHubIssueArea", "IssueAreaModel", "test micro-accuracy")]
    public void SampleTrainsSavesExportsAndPredicts(string app, string model, string metricLine)
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        var dll = Path.Combine(SharedData.RepoRoot, "examples", app, "bin", configuration, "net10.0", app + ".dll");
        var output = Directory.CreateTempSubdirectory("lorenza-sample-");
        try
        {
            var (exit, stdout, stderr) = ProcessRunner.Run("dotnet", $"\"{dll}\" --epochs 2 --output \"{output.FullName}\"", null, TimeSpan.FromMinutes(5));
            Console.WriteLine(stdout);
            Assert.AreEqual(0, exit, stderr);
            StringAssert.Contains(stdout, metricLine);
            StringAssert.Contains(stdout, "→");
            foreach (var file in new[] { model + ".mlnet", model + ".onnx", "labels.json", "vocab.json", "merges.txt" })
                Assert.IsTrue(File.Exists(Path.Combine(output.FullName, file)), $"{file} missing in the sample's output");
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }
}
