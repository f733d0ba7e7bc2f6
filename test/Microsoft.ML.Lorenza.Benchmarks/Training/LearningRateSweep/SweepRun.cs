using System.Diagnostics;
using Microsoft.ML.Lorenza.Configuration;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Training;

namespace Microsoft.ML.Lorenza.Benchmarks.Training.LearningRateSweep;

/// <summary>One training run of the sweep: final held-out accuracy, final training loss, wall time.</summary>
public sealed record SweepRun(string Data, string Optimizer, double Rate, int Seed, double Accuracy, double TrainLoss, double Seconds)
{
    /// <summary>
    /// Trains with every option at the product's default except the optimizer, the learning rate, the seed and the given
    /// length, batch and epochs (pretrained: the default model; scratch: the tiny preset), and scores the held-out rows once at the end.
    /// </summary>
    public static SweepRun Train(SweepData data, string optimizer, double rate, int seed, int maxLength, int? epochs, int? batch)
    {
        var options = new TrainingOptions
        {
            Data = { MaxSequenceLength = maxLength, ValidationFraction = 0 },
            Optimizer = { Algorithm = OptimizerFactory.Find(optimizer).Algorithm, LearningRate = rate, Seed = (ulong)seed },
            Loop = { Seed = (ulong)seed },
        };
        if (epochs is { } e) options.Loop.Epochs = e;
        if (batch is { } b) options.Loop.BatchSize = b;
        if (data.FromScratch) (options.Model.PretrainedModelPath, options.Model.Preset) = (null, ModelPreset.Tiny);
        var clock = Stopwatch.StartNew();
        var (classifier, report) = TextClassifierTrainer.Train(data.Train, validation: null, options);
        using (classifier)
            return new SweepRun(data.Name, optimizer, rate, seed, NoisyLabels.NoisyRun.Accuracy(classifier, data.Evaluation.Examples), report.Epochs[^1].TrainLoss, clock.Elapsed.TotalSeconds);
    }
}
