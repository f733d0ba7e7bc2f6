using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.ML.Lorenza.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Microsoft.ML.Lorenza.Datasets;
using Microsoft.ML.Lorenza.Inference;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Tests.Training;

/// <summary>Training a classifier with the LoRA baseline ends with a plain model: adapters folded, nothing left attached.</summary>
[TestClass]
public sealed class LoraTrainingTests
{
    [TestMethod]
    public void TrainedModelHasTheAdaptersFoldedInAndSavesAsAPlainModel()
    {
        var sample = Path.Combine(SharedData.RepoRoot, "src", "Microsoft.ML.Lorenza.Cli", "SampleData", "reviews.tsv");
        var all = TextDataset.Load(sample, new ColumnSpec("text", "label")).Examples;
        var data = TextDataset.FromExamples(all.Take(320), sample);
        var validation = TextDataset.FromExamples(all.Skip(320).Take(100), sample);
        var options = new TrainingOptions
        {
            Model = { Preset = ModelPreset.Tiny, TokenizerMerges = 300 },
            Data = { MaxSequenceLength = 48 },
            // The rate large and constant, so the adapters change the outputs measurably.
            Optimizer = { Algorithm = OptimizerAlgorithm.Lora, LearningRateSchedule = ScheduleShape.Constant, LearningRate = 2e-2, Rank = 4 },
            Loop = { Epochs = 2, BatchSize = 16, Seed = 4 },
            Compute = { Device = "cpu", Precision = ComputePrecision.None }, // branches vs folded weights compared to 1e-6: float32
        };
        var folder = Directory.CreateTempSubdirectory("lorenza-lora-").FullName;
        try
        {
            var (classifier, report) = TextClassifierTrainer.Train(data, validation, options);
            string[] texts = ["the food is quite impressive", "the service was slow and rude"];
            float[][] before;
            using (classifier)
            {
                Assert.AreEqual("lora", report.Optimizer);
                // That LoRA lowers the loss is checked on the optimizer's own problems; a few dozen steps from scratch move it too little to assert here.
                Assert.AreEqual(2 * ((report.TrainExamples + 15) / 16), report.StepLosses.Count);
                Assert.IsTrue(report.StepLosses.All(double.IsFinite));
                // The last epoch's metrics were measured with the side branches attached; the folded model must score the same.
                var labels = new LabelMap(classifier.Labels).IdsOf(validation);
                var folded = TextClassifierTrainer.Evaluate(classifier, validation.Examples, labels);
                Assert.AreEqual(report.Validation!.LogLoss, folded.LogLoss, 1e-6, "validation log-loss with the branches vs folded (unfolded, they differ by 0.02 here)");
                var linears = classifier.Model.named_modules().Select(m => m.module).OfType<SideBranchLinear>().ToList();
                Assert.IsTrue(linears.Count > 0 && linears.All(l => l.Delta is null), "no side branch left on any layer");
                Assert.IsTrue(classifier.Model.named_parameters().All(p => p.parameter.requires_grad), "every weight is trainable again");
                // Managed matrices: A, B and their two moments, 3·r·(m + n) floats; the rest: AdamW's two moments.
                var parameters = new ManagedParameterRule().Apply(classifier.Model);
                var expected = 4 * parameters.Sum(p => p.Managed ? 3L * 4 * (p.Tensor.size(0) + p.Tensor.size(1)) : 2 * p.Tensor.numel());
                Assert.IsTrue(parameters.Count(p => p.Managed) >= 12, "the tiny preset's attention and FFN matrices are adapted");
                Assert.AreEqual(expected, report.OptimizerStateBytes);
                before = classifier.PredictProbabilities(texts);
                classifier.Save(folder);
            }
            using var reloaded = TextClassifier.Load(folder, precision: ComputePrecision.None);
            var after = reloaded.PredictProbabilities(texts);
            for (var i = 0; i < texts.Length; i++)
                CollectionAssert.AreEqual(before[i], after[i], $"text {i}: save → load gives the same predictions");
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }
}
