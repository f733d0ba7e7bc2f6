using System.Text.Json;
using Microsoft.ML.Lorenza.Configuration;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.ML.Lorenza.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Tests.Training;

/// <summary>
/// Class and example weights in the training loss: Σ wᵢ·ℓᵢ / Σ wᵢ over the rows a loss uses (the batch, a probe's first
/// rows, a micro-batch's share), checked against PyTorch's CrossEntropyLoss(weight=…, reduction='mean') from the same
/// logits; balanced class weights.
/// </summary>
[TestClass]
public sealed class WeightedLossTests
{
    // float32 logits and a float32 weighted sum against PyTorch in float64: the losses (about 0.7) agree to float32 rounding.
    private const double Tolerance = 2e-6;

    [TestMethod]
    public void BalancedWeights_AreInverseClassFrequency_AveragingOne()
    {
        int[] labels = [.. Enumerable.Repeat(0, 30), .. Enumerable.Repeat(1, 3), .. Enumerable.Repeat(2, 7)];
        var weights = TrainingWeights.Balanced(labels, 4); // class 3 has no rows
        Assert.AreEqual(40.0 / (3 * 30), weights[0], 1e-12);
        Assert.AreEqual(40.0 / (3 * 3), weights[1], 1e-12);
        Assert.AreEqual(40.0 / (3 * 7), weights[2], 1e-12);
        Assert.AreEqual(0, weights[3]);
        Assert.AreEqual(1, labels.Average(l => weights[l]), 1e-12, "balanced weights average 1 over the rows");
        Assert.IsNull(TrainingWeights.ClassWeights(ClassWeighting.None, labels, 4));
    }

    [TestMethod]
    public void WeightedLoss_MatchesPyTorch_WithClassWeights_ExampleWeights_AndBoth_OnTheBatchAndOnAProbesRows()
    {
        using var scope = torch.NewDisposeScope();
        var (model, ids, mask, labels) = TinyBatch(rows: 12);
        var labelArray = labels.data<long>().ToArray();
        var classWeights = TrainingWeights.Balanced(labelArray.Select(l => (int)l).ToList(), 3);
        float[] exampleWeights = [1, 0.5f, 2, 0, 1, 3, 0.25f, 1, 1, 0.5f, 2, 1];
        float[] combined = [.. exampleWeights.Select((w, i) => (float)(w * classWeights[labelArray[i]]))];
        var logits = EvalLogits(model, ids, mask);

        var cases = new (string Name, double[]? Class, float[]? Example, float[] RowWeights, double Fraction)[]
        {
            ("class weights", classWeights, null, [.. labelArray.Select(l => (float)classWeights[l])], 1),
            ("example weights", null, exampleWeights, exampleWeights, 1),
            ("both", classWeights, exampleWeights, combined, 1),
            ("both, a probe on half the batch", classWeights, exampleWeights, combined, 0.5),
            ("example weights, a probe on a quarter", null, exampleWeights, exampleWeights, 0.25),
        };
        using var reply = PythonReference.RunScript("weighted_loss_reference.py", new
        {
            logits = logits.data<float>().ToArray(), classes = 3, labels = labelArray,
            cases = cases.Select(c => new { class_weights = c.Class, example_weights = c.Example, rows = ClassifierLoss.ProbeRows(12, c.Fraction) }).ToArray(),
        });
        var expected = reply.RootElement.GetProperty("losses").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        for (var i = 0; i < cases.Length; i++)
        {
            var weights = torch.tensor(cases[i].RowWeights);
            var closure = ClassifierLoss.Closure(model, ids, mask, null, labels, weights: weights);
            Assert.AreEqual(expected[i], closure(LossMode.Eval, cases[i].Fraction), Tolerance, $"{cases[i].Name}: the closure's (probe) loss");
            if (cases[i].Fraction == 1)
                Assert.AreEqual(expected[i], ClassifierLoss.WeightedMean(logits, labels, weights).item<float>(), Tolerance, $"{cases[i].Name}: WeightedMean");
        }
        // Weights all 1 give the unweighted mean.
        var ones = ClassifierLoss.Closure(model, ids, mask, null, labels, weights: torch.ones(12))(LossMode.Eval);
        Assert.AreEqual(ClassifierLoss.Closure(model, ids, mask, labels)(LossMode.Eval), ones, 1e-6);
    }

    [TestMethod]
    public void TrainLoss_IsTheWeightedMean_AndMicroBatchesAccumulateTheSameGradient()
    {
        using var scope = torch.NewDisposeScope();
        var (model, ids, mask, labels) = TinyBatch(rows: 10, dropout: 0);
        var weights = torch.tensor(new float[] { 1, 2, 0, 0.5f, 1, 1, 3, 1, 0.25f, 1 });
        var eval = ClassifierLoss.Closure(model, ids, mask, null, labels, weights: weights)(LossMode.Eval);
        var (whole, gradWhole) = TrainStep(model, ClassifierLoss.Closure(model, ids, mask, null, labels, weights: weights));
        var (split, gradSplit) = TrainStep(model, ClassifierLoss.Closure(model, ids, mask, null, labels, microBatches: 3, weights: weights));
        Assert.AreEqual(eval, whole, 1e-5, "train loss (no dropout) = eval loss");
        Assert.AreEqual(whole, split, 1e-5, "3 micro-batches sum to the batch's weighted mean");
        for (var i = 0; i < gradWhole.Count; i++)
            Assert.IsTrue(gradWhole[i].allclose(gradSplit[i], rtol: 1e-4, atol: 1e-6), $"gradient {i}");
    }

    [TestMethod]
    public void AProbeWhoseRowsAllWeighZero_HasLossZero_NotNaN()
    {
        using var scope = torch.NewDisposeScope();
        var (model, ids, mask, labels) = TinyBatch(rows: 8);
        var weights = torch.tensor(new float[] { 0, 0, 0, 0, 1, 1, 1, 1 });
        Assert.AreEqual(0, ClassifierLoss.Closure(model, ids, mask, null, labels, weights: weights)(LossMode.Eval, 0.5));
    }

    private static (SequenceClassifier Model, Tensor Ids, Tensor Mask, Tensor Labels) TinyBatch(int rows, double dropout = 0.1)
    {
        var config = RobertaConfig.Preset(ModelPreset.Tiny, vocabSize: 120, numLabels: 3, maxLength: 16);
        (config.HiddenDropoutProb, config.AttentionProbsDropoutProb, config.ClassifierDropout) = (dropout, dropout, dropout);
        var model = RobertaForSequenceClassification.Create(config, seed: 5);
        var generator = new Generator(11);
        var ids = torch.randint(3, 120, [rows, 12], dtype: ScalarType.Int64, generator: generator);
        var mask = torch.ones([rows, 12], dtype: ScalarType.Int64);
        var labels = torch.tensor(Enumerable.Range(0, rows).Select(i => (long)(i % 4 == 0 ? 1 : i % 5 == 0 ? 2 : 0)).ToArray());
        return (model, ids, mask, labels);
    }

    private static Tensor EvalLogits(SequenceClassifier model, Tensor ids, Tensor mask)
    {
        model.eval();
        using var noGrad = torch.no_grad();
        using var output = model.forward(ids, mask);
        return output.Logits.detach().clone();
    }

    private static (double Loss, List<Tensor> Gradients) TrainStep(SequenceClassifier model, LossClosure closure)
    {
        foreach (var p in model.parameters()) p.grad?.zero_();
        var loss = closure(LossMode.Train);
        return (loss, model.parameters().Select(p => p.grad!.clone()).ToList());
    }
}
