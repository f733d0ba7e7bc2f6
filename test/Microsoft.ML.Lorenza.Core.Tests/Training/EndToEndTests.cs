using Microsoft.ML.Lorenza.Modeling;
using System.Globalization;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.ML.Lorenza.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Microsoft.ML.Lorenza.Datasets;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Tests.Training;

/// <summary>Train on real data (SST-2 subset), save, reload in a fresh `lorenza` process: same predictions; evaluate and predict work.</summary>
[TestClass]
public sealed class EndToEndTests
{
    [TestMethod]
    public void TrainSaveReloadInAFreshProcessGivesTheSamePredictions()
    {
        var sst2 = SharedData.RequirePath("data", "sst2");
        var folder = Directory.CreateTempSubdirectory("lorenza-e2e-").FullName;
        try
        {
            // A 400-line subset keeps this test to seconds.
            var subset = Path.Combine(folder, "train.tsv");
            File.WriteAllLines(subset, File.ReadLines(Path.Combine(sst2, "train.tsv")).Take(401));
            var data = TextDataset.Load(subset, new ColumnSpec("sentence", "label"));
            var options = new TrainingOptions { Model = { Preset = ModelPreset.Tiny, TokenizerMerges = 300 }, Data = { MaxSequenceLength = 48 }, Loop = { Epochs = 1, MaxSteps = 8, BatchSize = 16, Seed = 7 }, Compute = { Device = "cpu" } };
            var (classifier, report) = TextClassifierTrainer.Train(data, null, options);
            var modelDir = Path.Combine(folder, "model");
            string[] texts = ["a gripping , beautifully acted film", "dull and lifeless from start to finish", "it is a movie"];
            float[][] before;
            using (classifier)
            {
                Assert.AreEqual(8, report.StepLosses.Count);
                Assert.IsTrue(report.Epochs.Single().OptimizerDiagnostics.ContainsKey("ascent_alignment"), "LORENZA's diagnostics reach the report");
                before = classifier.PredictProbabilities(texts);
                classifier.Save(modelDir);
            }
            foreach (var file in new[] { "config.json", "model.safetensors", "vocab.json", "merges.txt", "lorenza.json" })
                Assert.IsTrue(File.Exists(Path.Combine(modelDir, file)), file);

            var (code, stdout, stderr) = Cli.Run($"predict --model \"{modelDir}\"", string.Join("\n", texts));
            Assert.AreEqual(0, code, stderr);
            var rows = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split('\t')).ToList();
            Assert.AreEqual(texts.Length, rows.Count);
            for (var i = 0; i < texts.Length; i++)
            {
                Assert.AreEqual(texts[i], rows[i][^1]);
                for (var k = 0; k < 2; k++)
                    Assert.AreEqual(before[i][k], double.Parse(rows[i][1 + k], CultureInfo.InvariantCulture), 1e-4, $"text {i}, class {k}");
            }

            var onnx = Path.Combine(folder, "onnx", "sst2.onnx");
            (code, stdout, stderr) = Cli.Run($"export --model \"{modelDir}\" --onnx \"{onnx}\"");
            Assert.AreEqual(0, code, stderr);
            foreach (var file in new[] { "sst2.onnx", "labels.json", "vocab.json", "merges.txt" })
                Assert.IsTrue(File.Exists(Path.Combine(folder, "onnx", file)), file);

            var dev = Path.Combine(sst2, "dev.tsv");
            (code, stdout, stderr) = Cli.Run($"evaluate \"{dev}\" --model \"{modelDir}\" --text-col sentence --label-col label");
            Assert.AreEqual(0, code, stderr);
            StringAssert.Contains(stdout, "accuracy");
            StringAssert.Contains(stdout, "macro-F1");
            StringAssert.Contains(stdout, "confusion");
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [TestMethod]
    public void BadInputsGetOneClearLineAndAFailingExitCode()
    {
        var folder = Directory.CreateTempSubdirectory("lorenza-bad-").FullName;
        try
        {
            var missing = Cli.Run($"train \"{Path.Combine(folder, "nope.tsv")}\" -o \"{Path.Combine(folder, "m")}\"");
            Assert.AreEqual(1, missing.ExitCode);
            StringAssert.Contains(missing.Stderr, "not found");

            var file = Path.Combine(folder, "data.tsv");
            File.WriteAllText(file, "review\tstars\ngood\t5\nbad\t1\n");
            var wrongColumn = Cli.Run($"train \"{file}\" -o \"{Path.Combine(folder, "m")}\"");
            Assert.AreEqual(2, wrongColumn.ExitCode);
            StringAssert.Contains(wrongColumn.Stderr, "Available columns: 'review' (0), 'stars' (1)");

            File.WriteAllText(file, "text\tlabel\ngood\tpos\nfine\tpos\n");
            var oneClass = Cli.Run($"train \"{file}\" -o \"{Path.Combine(folder, "m")}\"");
            Assert.AreEqual(1, oneClass.ExitCode);
            StringAssert.Contains(oneClass.Stderr, "only one class");

            File.WriteAllText(file, "");
            StringAssert.Contains(Cli.Run($"train \"{file}\"").Stderr, "is empty");
            Assert.IsFalse(Directory.Exists(Path.Combine(folder, "m")), "nothing written on failure");

            File.WriteAllText(file, "text\tlabel\n   \tpos\ngood\tpos\nbad\tneg\n");
            var data = TextDataset.Load(file, new ColumnSpec("text", "label"));
            Assert.AreEqual(1, data.SkippedEmpty, "whitespace-only texts are skipped and counted");
            Assert.AreEqual(2, data.Examples.Count);
            var unseen = Assert.ThrowsExactly<InvalidDataException>(() => new LabelMap(["neg", "pos"]).IdsOf(TextDataset.FromExamples([new TextExample("x", null, "meh")])));
            StringAssert.Contains(unseen.Message, "meh");
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }
}
