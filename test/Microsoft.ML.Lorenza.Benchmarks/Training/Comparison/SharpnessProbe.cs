using Microsoft.ML.Lorenza.Training;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.ML.Lorenza.Datasets;
using Microsoft.ML.Lorenza.Inference;

namespace Microsoft.ML.Lorenza.Benchmarks.Training.Comparison;

/// <summary>
/// Sharpness of trained weights: the mean increase of the evaluation loss (on up to <see cref="Examples"/> examples)
/// when every parameter tensor p moves by radius · ‖p‖ along its own random Gaussian direction (filter-normalized,
/// so embeddings and LayerNorm gains move in proportion to their size), averaged over <see cref="Directions"/>
/// directions. The radius is calibrated once per data set: the smallest of <see cref="Radii"/> at which the
/// reference model's loss rises by at least <see cref="MinimumRise"/>, so the measure is neither noise nor saturated.
/// </summary>
public static class SharpnessProbe
{
    public const int Examples = 96;
    public const int Directions = 3;
    public const double MinimumRise = 0.02;
    public static readonly double[] Radii = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2];

    public static double Calibrate(TextClassifier classifier, TextDataset evaluation, ulong seed)
    {
        foreach (var radius in Radii)
            if (Measure(classifier, evaluation, seed, radius) >= MinimumRise) return radius;
        return Radii[^1];
    }

    public static double Measure(TextClassifier classifier, TextDataset evaluation, ulong seed, double radius)
    {
        var examples = evaluation.Examples.Take(Examples).ToList();
        var labels = new LabelMap(classifier.Labels).IdsOf(TextDataset.FromExamples(examples));
        double Loss() => TextClassifierTrainer.Evaluate(classifier, examples, labels).LogLoss;
        var parameters = classifier.Model.parameters().ToList();
        var baseline = Loss();
        using var noGrad = torch.no_grad();
        var originals = parameters.Select(p => p.detach().clone().DetachFromDisposeScope()).ToList();
        double total = 0;
        using var generator = new Generator(seed + 1000);
        for (var k = 0; k < Directions; k++)
        {
            using (var scope = torch.NewDisposeScope())
            {
                foreach (var p in parameters)
                {
                    var noise = torch.randn(p.shape, generator: generator);
                    var factor = radius * p.norm().item<float>() / Math.Max(noise.norm().item<float>(), 1e-12);
                    using var alpha = factor.ToScalar();
                    p.add_(noise, alpha);
                }
            }
            total += Loss() - baseline;
            for (var i = 0; i < parameters.Count; i++) parameters[i].copy_(originals[i]);
        }
        foreach (var o in originals) o.Dispose();
        return total / Directions;
    }
}
