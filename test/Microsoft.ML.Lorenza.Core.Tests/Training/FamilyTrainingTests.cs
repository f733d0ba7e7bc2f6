using Microsoft.ML.Lorenza.Configuration;
using Microsoft.ML.Lorenza.Datasets;
using Microsoft.ML.Lorenza.Inference;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Runtime;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.ML.Lorenza.Text;
using Microsoft.ML.Lorenza.Training;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Training;

/// <summary>
/// Tiny random DistilBERT, XLM-RoBERTa and ELECTRA folders (written by the engine) fine-tuned with LORENZA: the optimizer
/// manages exactly the encoder blocks' six matrices per layer; the trained classifier saves as a Hugging Face folder of its
/// family and loads back with the same probabilities; a run stopped after a checkpoint and resumed ends with the weights
/// of an uninterrupted run; the CLI trains, evaluates, predicts and exports them.
/// </summary>
[TestClass]
public sealed class FamilyTrainingTests
{
    private static readonly Dictionary<string, string[]> ManagedMatrices = new()
    {
        ["distilbert"] = ["attention.q_lin", "attention.k_lin", "attention.v_lin", "attention.out_lin", "ffn.lin1", "ffn.lin2"],
        ["xlm-roberta"] = ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense"],
        ["electra"] = ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense"],
    };

    private static TextDataset Reviews(int count, int seed = 1) =>
        TextDataset.FromExamples(FamilyFixture.MultilingualReviews(count, seed).Select(r => new TextExample(r.Text, null, r.Label)));

    private static TrainingOptions Options(string folder, int steps) => new()
    {
        Model = { PretrainedModelPath = folder },
        Data = { MaxSequenceLength = 32, ValidationFraction = 0.2 },
        Optimizer = { Algorithm = OptimizerAlgorithm.Lorenza, LearningRate = 1e-3, Rank = 4, RefreshInterval = 3 },
        Loop = { Epochs = 2, MaxSteps = steps, BatchSize = 8, Seed = 5 },
        Compute = { Device = "cpu" },
    };

    private static Dictionary<string, float[]> Weights(nn.Module model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().to(ScalarType.Float32).ToArray<float>());

    private sealed class StopAfter(int step, CancellationTokenSource cancel) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Step >= step) cancel.Cancel();
        }
    }

    [TestMethod]
    [DataRow("distilbert")]
    [DataRow("xlm-roberta")]
    [DataRow("electra")]
    public void TrainsManagesTheEncoderMatricesSavesLoadsAndResumes(string family)
    {
        var folder = Directory.CreateTempSubdirectory($"lorenza-{family}-train-").FullName;
        try
        {
            var pretrained = Path.Combine(folder, "pretrained");
            FamilyFixture.WriteTiny(family, pretrained, labels: 2, maxLength: 32);
            var (initial, _) = ModelFolder.Load(pretrained);
            Dictionary<string, float[]> before;
            using (initial)
            {
                before = Weights(initial);
                var managed = ManagedParameterRule.Architecture.Apply(initial).Where(p => p.Managed).Select(p => p.Name).ToList();
                var expected = Enumerable.Range(0, 2).SelectMany(l => ManagedMatrices[family].Select(m => $"{initial.EncoderPath}.layer.{l}.{m}.weight")).ToList();
                CollectionAssert.AreEquivalent(expected, managed, $"{family}: the encoder blocks' six matrices per layer");
            }

            var data = Reviews(48); // 39 training rows: 5 batches an epoch, 8 steps cross the epoch boundary
            var (whole, report) = TextClassifierTrainer.Train(data, null, Options(pretrained, 8));
            Dictionary<string, float[]> straight;
            using (whole)
            {
                Assert.AreEqual(family, whole.Model.Config.ModelType);
                Assert.AreEqual(8, report.StepLosses.Count);
                Assert.IsTrue(report.StepLosses.All(double.IsFinite), $"{family}: finite losses {string.Join(", ", report.StepLosses)}");
                Console.WriteLine($"{family} LORENZA step losses: {string.Join(", ", report.StepLosses.Select(l => l.ToString("F4")))}");
                straight = Weights(whole.Model);
                var changed = ManagedMatrices[family].Select(m => $"{whole.Model.EncoderPath}.layer.1.{m}.weight").Append($"{whole.Model.BaseModelPrefix}.embeddings.LayerNorm.weight");
                foreach (var name in changed) Assert.IsFalse(before[name].SequenceEqual(straight[name]), $"{family}: training changed {name}");

                var saved = Path.Combine(folder, "saved");
                whole.Save(saved);
                foreach (var file in whole.Tokenizer.FileNames.Concat(["config.json", "model.safetensors", "lorenza.json"]))
                    Assert.IsTrue(File.Exists(Path.Combine(saved, file)), $"{family}: {file}");
                StringAssert.Contains(File.ReadAllText(Path.Combine(saved, "config.json")), $"\"model_type\": \"{family}\"");
                using var loaded = TextClassifier.Load(saved);
                Assert.AreEqual(whole.Model.GetType(), loaded.Model.GetType());
                Assert.AreEqual(whole.Tokenizer.GetType(), loaded.Tokenizer.GetType());
                string[] texts = ["le film était magnifique", "фильм был ужасный", "这部电影很好", "फ़िल्म थी बुरी"];
                var want = whole.PredictProbabilities(texts);
                var got = loaded.PredictProbabilities(texts);
                for (var i = 0; i < texts.Length; i++) CollectionAssert.AreEqual(want[i], got[i], $"{family} row {i}");
            }

            var options = Options(pretrained, 8);
            options.Loop.CheckpointDirectory = Path.Combine(folder, "run");
            options.Loop.CheckpointEvery = 3;
            using (var cancel = new CancellationTokenSource())
                Assert.ThrowsExactly<OperationCanceledException>(() => TextClassifierTrainer.Train(data, null, options, new StopAfter(4, cancel), cancel.Token));
            Assert.IsTrue(File.Exists(Path.Combine(options.Loop.CheckpointDirectory, TrainingCheckpoint.FileName)));
            options.Loop.Resume = true;
            var (resumed, _) = TextClassifierTrainer.Train(data, null, options);
            using (resumed)
            {
                var after = Weights(resumed.Model);
                foreach (var (name, values) in straight)
                    CollectionAssert.AreEqual(values, after[name], $"{family}: {name} after resuming from step 3");
            }
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [TestMethod]
    public void TheCliTrainsEvaluatesPredictsAndExportsXlmRobertaAndDistilBert()
    {
        var folder = Directory.CreateTempSubdirectory("lorenza-cli-families-").FullName;
        try
        {
            var data = Path.Combine(folder, "reviews.tsv");
            File.WriteAllLines(data, ["text\tlabel", .. FamilyFixture.MultilingualReviews(40, 3).Select(r => $"{r.Text}\t{r.Label}")]);
            foreach (var family in new[] { "xlm-roberta", "distilbert" })
            {
                var pretrained = Path.Combine(folder, family);
                FamilyFixture.WriteTiny(family, pretrained, labels: 2, maxLength: 32);
                var model = Path.Combine(folder, family + "-model");
                var (code, stdout, stderr) = Cli.Run($"train \"{data}\" --model \"{pretrained}\" --text-col text --label-col label " +
                                                     $"--optimizer lorenza --rank 4 --max-steps 4 --batch-size 8 --max-length 32 --seed 1 --device cpu -o \"{model}\"");
                Assert.AreEqual(0, code, stderr + stdout);
                StringAssert.Contains(File.ReadAllText(Path.Combine(model, "config.json")), $"\"model_type\": \"{family}\"");
                var onnx = Path.Combine(folder, family + "-export", "model.onnx");
                (code, stdout, stderr) = Cli.Run($"export --model \"{model}\" --onnx \"{onnx}\"");
                Assert.AreEqual(0, code, stderr);
                Assert.IsTrue(File.Exists(onnx), $"{family} ONNX");
                if (family != "xlm-roberta") continue;
                Assert.IsTrue(File.Exists(Path.Combine(model, "sentencepiece.bpe.model")), "XLM-RoBERTa's SentencePiece model saved");
                Assert.IsTrue(File.Exists(Path.Combine(folder, family + "-export", "sentencepiece.bpe.model")), "and beside the ONNX export");
                (code, stdout, stderr) = Cli.Run($"evaluate \"{data}\" --model \"{model}\" --text-col text --label-col label --device cpu");
                Assert.AreEqual(0, code, stderr);
                StringAssert.Contains(stdout, "40 examples");
                (code, stdout, stderr) = Cli.Run($"predict --model \"{model}\" --device cpu", "le film était magnifique\nфильм был ужасный\n这部电影很好\n");
                Assert.AreEqual(0, code, stderr);
                var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                Assert.AreEqual(4, lines.Length, stdout);
                StringAssert.StartsWith(lines[0], "label\tp(négatif)\tp(positif)");
            }
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }
}
