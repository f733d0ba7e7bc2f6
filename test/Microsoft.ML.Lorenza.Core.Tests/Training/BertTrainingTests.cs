using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Runtime;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.ML.Lorenza.Text;
using Microsoft.ML.Lorenza.Training;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Microsoft.ML.Lorenza.Datasets;
using Microsoft.ML.Lorenza.Inference;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Tests.Training;

/// <summary>
/// A tiny random BERT folder (written by the engine, WordPiece vocab.txt) fine-tuned on sentence pairs: every optimizer
/// trains it and manages exactly the encoder blocks' six matrices per layer; the trained classifier saves as a BERT
/// folder and loads back with the same probabilities; a run stopped after a checkpoint and resumed ends with the
/// weights of an uninterrupted run.
/// </summary>
[TestClass]
public sealed class BertTrainingTests
{
    private static TextDataset Pairs(int count) => TextDataset.FromExamples(Enumerable.Range(0, count).Select(i =>
    {
        var positive = i % 2 == 0;
        var first = positive ? "a good film" : "a bad film";
        var second = (i % 3) switch { 0 => "the plot was fun", 1 => "it is very dull", _ => "great acting" };
        return new TextExample($"{first} {i % 7}", second, positive ? "pos" : "neg");
    }));

    private static TrainingOptions Options(string folder, string optimizer, int steps) => new()
    {
        Model = { PretrainedModelPath = folder },
        Data = { MaxSequenceLength = 32, ValidationFraction = 0.2 },
        Optimizer = { Algorithm = OptimizerFactory.Find(optimizer).Algorithm, LearningRate = 1e-3, Rank = 4, RefreshInterval = 3 },
        Loop = { Epochs = 2, MaxSteps = steps, BatchSize = 8, Seed = 5 },
        Compute = { Device = "cpu" },
    };

    private static Dictionary<string, float[]> Weights(nn.Module model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().to(ScalarType.Float32).ToArray<float>());

    [TestMethod]
    public void EveryOptimizerTrainsATinyBertAndManagesTheEncoderMatricesOnly()
    {
        var folder = Directory.CreateTempSubdirectory("lorenza-bert-train-").FullName;
        try
        {
            BertFixture.WriteTiny(folder, labels: 2, layers: 2, maxLength: 32);
            var (initial, _) = ModelFolder.Load(folder);
            Dictionary<string, float[]> before;
            using (initial)
            {
                before = Weights(initial);
                var managed = ManagedParameterRule.Architecture.Apply(initial).Where(p => p.Managed).Select(p => p.Name).ToList();
                var expected = Enumerable.Range(0, 2).SelectMany(l => new[]
                {
                    "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense",
                }.Select(m => $"bert.encoder.layer.{l}.{m}.weight")).ToList();
                CollectionAssert.AreEquivalent(expected, managed, "the encoder blocks' six matrices per layer; not the pooler, head or embeddings");
            }

            Assert.AreEqual(6, OptimizerFactory.Names.Count);
            foreach (var optimizer in OptimizerFactory.Names)
            {
                var (classifier, report) = TextClassifierTrainer.Train(Pairs(48), null, Options(folder, optimizer, 4));
                using var _ = classifier;
                Assert.IsInstanceOfType<BertForSequenceClassification>(classifier.Model, optimizer);
                Assert.IsInstanceOfType<BertWordPieceTokenizer>(classifier.Tokenizer, optimizer);
                Assert.AreEqual(4, report.StepLosses.Count, optimizer);
                Assert.IsTrue(report.StepLosses.All(double.IsFinite), $"{optimizer}: finite losses {string.Join(", ", report.StepLosses)}");
                Assert.AreEqual(0, report.FreshlyInitialized.Count, $"{optimizer}: two labels, the folder's two-class head is kept");
                var after = Weights(classifier.Model);
                foreach (var name in new[] { "bert.encoder.layer.0.attention.self.query.weight", "bert.encoder.layer.1.output.dense.weight", "bert.pooler.dense.weight" })
                    Assert.IsFalse(before[name].SequenceEqual(after[name]), $"{optimizer} changed {name}");
                Console.WriteLine($"{optimizer}: step losses {string.Join(", ", report.StepLosses.Select(l => l.ToString("F4")))}");
            }
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [TestMethod]
    public void TrainedBertClassifierSavesAndLoadsWithTheSameProbabilities()
    {
        var folder = Directory.CreateTempSubdirectory("lorenza-bert-save-").FullName;
        try
        {
            var pretrained = Path.Combine(folder, "pretrained");
            BertFixture.WriteTiny(pretrained, labels: 2, maxLength: 32);
            var (classifier, _) = TextClassifierTrainer.Train(Pairs(32), null, Options(pretrained, "adamw", 3));
            using var _ = classifier;
            var saved = Path.Combine(folder, "saved");
            classifier.Save(saved);
            foreach (var file in new[] { "config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "lorenza.json" })
                Assert.IsTrue(File.Exists(Path.Combine(saved, file)), file);
            Assert.IsFalse(File.Exists(Path.Combine(saved, "vocab.json")), "no BPE files for a BERT");
            StringAssert.Contains(File.ReadAllText(Path.Combine(saved, "config.json")), "\"model_type\": \"bert\"");

            using var loaded = TextClassifier.Load(saved);
            Assert.IsInstanceOfType<BertForSequenceClassification>(loaded.Model);
            CollectionAssert.AreEqual(new[] { "neg", "pos" }, loaded.Labels.ToArray());
            string[] texts = ["a good film", "a bad film 3", "fun"];
            string?[] pairs = ["great acting", "it is very dull", null];
            var want = classifier.PredictProbabilities(texts, pairs);
            var got = loaded.PredictProbabilities(texts, pairs);
            for (var i = 0; i < texts.Length; i++) CollectionAssert.AreEqual(want[i], got[i], $"row {i}");
            // The second text and its token types reach the model.
            Assert.AreNotEqual(loaded.PredictProbabilities(["a good film"], ["great acting"])[0][0], loaded.PredictProbabilities(["a good film great acting"])[0][0]);
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    private sealed class StopAfter(int step, CancellationTokenSource cancel) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Step >= step) cancel.Cancel();
        }
    }

    [TestMethod]
    public void AStoppedBertRunResumesToTheWeightsOfAnUninterruptedOne()
    {
        var folder = Directory.CreateTempSubdirectory("lorenza-bert-resume-").FullName;
        try
        {
            var pretrained = Path.Combine(folder, "pretrained");
            BertFixture.WriteTiny(pretrained, labels: 2, maxLength: 32);
            var data = Pairs(48); // 39 training rows: 5 batches an epoch, 8 steps cross the epoch boundary
            Dictionary<string, float[]> straight;
            var (whole, _) = TextClassifierTrainer.Train(data, null, Options(pretrained, "lorenza", 8));
            using (whole) straight = Weights(whole.Model);

            var checkpoints = Path.Combine(folder, "run");
            var options = Options(pretrained, "lorenza", 8);
            options.Loop.CheckpointDirectory = checkpoints;
            options.Loop.CheckpointEvery = 3;
            using (var cancel = new CancellationTokenSource())
                Assert.ThrowsExactly<OperationCanceledException>(() => TextClassifierTrainer.Train(data, null, options, new StopAfter(4, cancel), cancel.Token));
            Assert.IsTrue(File.Exists(Path.Combine(checkpoints, TrainingCheckpoint.FileName)));

            options.Loop.Resume = true;
            var (resumed, _) = TextClassifierTrainer.Train(data, null, options);
            using (resumed)
            {
                var after = Weights(resumed.Model);
                foreach (var (name, values) in straight)
                    CollectionAssert.AreEqual(values, after[name], $"{name} after resuming from step 3");
            }
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }
}
