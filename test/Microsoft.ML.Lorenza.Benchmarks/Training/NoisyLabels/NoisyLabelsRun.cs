using Microsoft.ML.Lorenza.Configuration;
using Microsoft.ML.Lorenza.Datasets;
using Microsoft.ML.Lorenza.Inference;
using Microsoft.ML.Lorenza.Training;

namespace Microsoft.ML.Lorenza.Benchmarks.Training.NoisyLabels;

/// <summary>One epoch of one run: clean dev accuracy, how much of the noise the model has learned, the fit of the clean rows, the loss, the step time (evaluations excluded).</summary>
public sealed record NoisyEpoch(int Epoch, double DevAccuracy, double FlippedMemorized, double CleanTrainAccuracy, double TrainLoss, double AscentAlignment, double SecondsPerStep);

/// <summary>One training run at one noise rate: per-epoch figures, best and final dev accuracy, step time, ascent alignment.</summary>
public sealed record NoisyRun(double Noise, string Arm, int Seed, IReadOnlyList<NoisyEpoch> Epochs, double SecondsPerStep, double Minutes)
{
    public double BestAccuracy => Epochs.Max(e => e.DevAccuracy);
    public int BestEpoch => Epochs.MaxBy(e => e.DevAccuracy)!.Epoch;
    public double FinalAccuracy => Epochs[^1].DevAccuracy;
    /// <summary>The share of flipped rows predicted with their wrong label at the end (NaN without noise).</summary>
    public double FinalMemorized => Epochs[^1].FlippedMemorized;
    public double Alignment => Epochs.Select(e => e.AscentAlignment).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average();

    /// <summary>
    /// Trains on <paramref name="noise"/>'s set, measuring after every epoch the accuracy on the flipped rows against their
    /// wrong labels (memorization) and on up to as many unflipped rows against their labels.
    /// </summary>
    public static NoisyRun Train(LabelNoise noise, double rate, TextDataset dev, TrainingOptions options, string arm, int seed)
    {
        var flipped = noise.FlippedRows.Select(i => noise.Noisy.Examples[i]).ToList();
        var flippedSet = noise.FlippedRows.ToHashSet();
        var clean = noise.Noisy.Examples.Where((_, i) => !flippedSet.Contains(i)).Take(Math.Max(flipped.Count, 200)).ToList();
        var epochs = new List<NoisyEpoch>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        void AfterEpoch(TextClassifier classifier, EpochResult epoch) => epochs.Add(new NoisyEpoch(epoch.Epoch, epoch.ValidationAccuracy,
            Accuracy(classifier, flipped), Accuracy(classifier, clean), epoch.TrainLoss,
            epoch.OptimizerDiagnostics.GetValueOrDefault("ascent_alignment", double.NaN), 1 / epoch.StepsPerSecond));
        var (classifier, _) = TextClassifierTrainer.Train(noise.Noisy, dev, options, null, default, AfterEpoch);
        classifier.Dispose();
        // The median epoch's step time: the first epoch carries the start-up, and evaluations are not steps.
        var stepSeconds = BenchmarkContext.Median(epochs.Select(e => e.SecondsPerStep));
        return new NoisyRun(rate, arm, seed, epochs, stepSeconds, clock.Elapsed.TotalMinutes);
    }

    /// <summary>The share of <paramref name="examples"/> predicted as their (possibly flipped) label; NaN for none.</summary>
    internal static double Accuracy(TextClassifier classifier, IReadOnlyList<TextExample> examples)
    {
        if (examples.Count == 0) return double.NaN;
        var probabilities = classifier.PredictProbabilities(examples.Select(e => e.Text).ToList(), examples.Select(e => e.TextPair).ToList());
        var correct = 0;
        for (var i = 0; i < examples.Count; i++)
        {
            var best = Array.IndexOf(probabilities[i], probabilities[i].Max());
            if (classifier.Labels[best] == examples[i].Label) correct++;
        }
        return (double)correct / examples.Count;
    }
}
