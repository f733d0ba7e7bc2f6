using Microsoft.ML.Lorenza.Datasets;
using Microsoft.ML.Lorenza.Optimizers;

namespace Microsoft.ML.Lorenza.Configuration;

/// <summary>
/// Everything a training run needs besides the data, one group per concern, with the defaults of every surface: the
/// `lorenza` CLI builds its options from the groups' <see cref="OptionAttribute"/>s (<see cref="OptionProperty.All"/>) and
/// takes its defaults from a fresh instance, and the ML.NET Options fields start from the same values (the options tests
/// hold all three equal). C# sets a group in place: <c>new TrainingOptions { Loop = { Epochs = 1 }, Optimizer = { Rank = 4 } }</c>.
/// </summary>
public sealed class TrainingOptions
{
    public ModelOptions Model { get; } = new();
    public DataOptions Data { get; } = new();
    public OptimizerOptions Optimizer { get; } = new();
    public LoopOptions Loop { get; } = new();
    public ComputeOptions Compute { get; } = new();

    /// <summary>
    /// The peak learning rate a null <see cref="OptimizerOptions.LearningRate"/> means, by the optimizer's family and the
    /// start, as `./build.sh bench lr-sweep` chose them (docs/learning-rates.md): a low-rank method steps in an r-dimensional
    /// subspace (LORENZA, by default, also in a low-rank embedding), so at full-rank Adam's rate it underfits.
    /// </summary>
    public static double DefaultLearningRate(OptimizerAlgorithm optimizer, bool pretrained) => (OptimizerFactory.Of(optimizer).Family, pretrained) switch
    {
        (OptimizerFamily.FullRank, true) => FineTuningFullRank,
        (OptimizerFamily.LowRankProjected, true) => FineTuningLowRankProjected,
        (OptimizerFamily.LowRankAdapter, true) => FineTuningLowRankAdapter,
        (OptimizerFamily.FullRank, false) => FromScratchFullRank,
        (OptimizerFamily.LowRankProjected, false) => FromScratchLowRankProjected,
        (OptimizerFamily.LowRankAdapter, false) => FromScratchLowRankAdapter,
        var (family, _) => throw new ArgumentOutOfRangeException(nameof(optimizer), family, "an optimizer family without a default learning rate"),
    };

    // The best mean held-out accuracy of each family over SST-2, AG News and the two samples' data (fine-tuning MiniLM), and
    // over SST-2 from scratch (tiny RoBERTa); a grid step below or above loses about a point or less, except towards the
    // divergence a step further up (docs/learning-rates.md).
    private const double FineTuningFullRank = 1e-4, FineTuningLowRankProjected = 1e-3, FineTuningLowRankAdapter = 1e-3;
    private const double FromScratchFullRank = 1e-3, FromScratchLowRankProjected = 3e-3, FromScratchLowRankAdapter = 1e-3;

    /// <summary>The defaults in words, as `--help` states them (a test holds the two equal).</summary>
    public static string DescribeDefaultLearningRates()
    {
        string Family(bool pretrained) => string.Join(", ", OptimizerFactory.Kinds.GroupBy(k => DefaultLearningRate(k.Algorithm, pretrained))
            .Select(g => $"{g.Key.ToString("0.#e0", System.Globalization.CultureInfo.InvariantCulture)} {string.Join("/", g.Select(k => k.Name))}"));
        return $"fine-tuning {Family(true)}; from scratch {Family(false)}";
    }

    /// <summary>"lr 1e-3 (lorenza's default for fine-tuning)" or "lr 5e-4": the run's rate and where it came from, for logs.</summary>
    public string DescribeLearningRate() => $"lr {PeakLearningRate.ToString("0.##e0", System.Globalization.CultureInfo.InvariantCulture)}" +
        (Optimizer.LearningRate is null ? $" ({Optimizer.Algorithm.Name}'s default {(Model.FromScratch ? "from scratch" : "for fine-tuning")})" : "");

    /// <summary>The peak learning rate of this run: <see cref="OptimizerOptions.LearningRate"/>, or its default.</summary>
    public double PeakLearningRate => Optimizer.LearningRate ?? DefaultLearningRate(Optimizer.Algorithm, !Model.FromScratch);

    /// <summary>Validates every group, then what joins them; the first bad value throws, naming it and its valid range.</summary>
    public void Validate()
    {
        Loop.Validate();
        Data.Validate();
        Model.Validate();
        if (Model.Preset is { } preset)
            DataChecks.MaxSequenceLength(Data.MaxSequenceLength, DataChecks.PresetMaxSequenceLength, $"the '{preset.Name}' preset");
        Compute.Validate();
        Optimizer.Validate();
        Optimizer.WordEmbeddingsFor(Optimizer.Algorithm); // before any data is read
    }
}

/// <summary>The check every option group makes: one line naming the option, its value and the valid range.</summary>
internal static class OptionCheck
{
    public static void That(bool ok, string name, object value, string range)
    {
        if (!ok) throw new ArgumentOutOfRangeException(name, value, $"{name} = {value} is invalid: it must be {range}.");
    }
}
