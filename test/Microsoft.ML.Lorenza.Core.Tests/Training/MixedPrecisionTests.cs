using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Runtime;
using Microsoft.ML.Lorenza.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.ML.Lorenza.Datasets;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Tests.Training;

/// <summary>bfloat16 compute (Precision = Bf16) on CPU: what stays float32, and why the zeroth-order probes must.</summary>
[TestClass]
public sealed class MixedPrecisionTests
{
    [TestMethod]
    public void ZerothOrderProbeLossesAreFloat32UnderBFloat16()
    {
        using var model = RobertaForSequenceClassification.Create(RobertaConfig.Tiny(300, 2), 11);
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(5);
        var ids = torch.randint(3, 300, [8, 24], ScalarType.Int64, generator: g);
        var mask = torch.ones([8, 24], ScalarType.Int64);
        var labels = torch.randint(0, 2, [8], ScalarType.Int64, generator: g);
        var closure = ClassifierLoss.Closure(model, ids, mask, labels);
        var layers = model.ManagedLinears().Select(l => l.layer).ToList();
        var probes = layers.Select(l => torch.randn(l.weight.shape, generator: g)).ToList();
        const double mu = 1e-3;

        double Difference(Func<double> loss)
        {
            for (var i = 0; i < layers.Count; i++) layers[i].Delta = new LowRankDelta(probes[i], null, mu);
            var plus = loss();
            for (var i = 0; i < layers.Count; i++) layers[i].Delta = new LowRankDelta(probes[i], null, -mu);
            var minus = loss();
            foreach (var layer in layers) layer.Delta = null;
            return plus - minus;
        }

        var float32 = Difference(() => closure(LossMode.Eval));
        model.ComputeType = ScalarType.BFloat16;
        var throughClosure = Difference(() => closure(LossMode.Eval));
        Assert.AreEqual(float32, throughClosure, 0, "the probe losses are computed in float32 under bf16");
        Assert.AreEqual(ScalarType.BFloat16, model.ComputeType, "and the model's compute type is restored");
        double Bf16Loss()
        {
            using var noGrad = torch.no_grad();
            using var output = model.forward(ids, mask, labels: labels);
            return output.Loss!.item<float>();
        }
        var bf16 = Difference(Bf16Loss);
        Console.WriteLine($"L(θ+μU) − L(θ−μU): float32 {float32:E3}, bfloat16 forward {bf16:E3}");
        Assert.IsTrue(Math.Abs(float32) > 1e-6, "the probe moves the float32 loss");
        Assert.IsTrue(Math.Abs(bf16 - float32) > 0.1 * Math.Abs(float32), $"a bfloat16 forward misses the difference by more than 10 % ({bf16:E3} vs {float32:E3}): why the probes run in float32");
    }

    [TestMethod]
    public void BFloat16TrainingKeepsFloat32WeightsAndLearns()
    {
        var texts = Enumerable.Range(0, 96).Select(i => i % 2 == 0 ? $"good great fine film {i % 7}" : $"bad awful poor film {i % 5}").ToList();
        var data = TextDataset.FromExamples(texts.Select((t, i) => new TextExample(t, null, i % 2 == 0 ? "pos" : "neg")));
        var options = new TrainingOptions { Model = { Preset = ModelPreset.Tiny, TokenizerMerges = 30 }, Data = { ValidationFraction = 0 }, Loop = { Epochs = 3, BatchSize = 16, Seed = 2 }, Compute = { Device = "cpu", Precision = ComputePrecision.Bf16 } };
        var (classifier, report) = TextClassifierTrainer.Train(data, null, options);
        using (classifier)
        {
            Assert.AreEqual(ScalarType.BFloat16, classifier.Model.ComputeType);
            Assert.IsTrue(classifier.Model.parameters().All(p => p.dtype == ScalarType.Float32), "master weights stay float32");
            Assert.AreEqual(0, report.SkippedSteps);
            Assert.IsTrue(report.StepLosses.All(double.IsFinite));
            var first = report.StepLosses.Take(6).Average();
            var last = report.StepLosses.TakeLast(6).Average();
            Assert.IsTrue(last < first, $"loss falls under bf16: {first:F3} → {last:F3}");
        }
    }
}
