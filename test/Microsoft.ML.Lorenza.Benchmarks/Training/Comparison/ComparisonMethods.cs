using System.Globalization;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Training;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Benchmarks.Training.Comparison;

/// <summary>
/// One compared configuration: an optimizer with its ρ and ascent direction, and for LORENZA the cheaper-ascent and
/// embedding options (defaults: the library's; "lorenza paper" is the paper's setting: whole-batch probes, full embedding moments).
/// </summary>
public sealed record ComparisonMethod(string Label, string Optimizer, OptimizerFamily Family, double Rho, AscentDirection Ascent,
                                      double ProbeBatchFraction = OptimizerOptions.DefaultProbeBatchFraction, WordEmbeddingTreatment? WordEmbeddings = null)
{
    /// <summary>AdamW first: it is the step-time reference and calibrates the sharpness radius.</summary>
    public static readonly IReadOnlyList<ComparisonMethod> All =
    [
        new("adamw", "adamw", OptimizerFamily.FullRank, 0, AscentDirection.ZerothOrder),
        new("sam", "sam", OptimizerFamily.FullRank, 0.05, AscentDirection.ZerothOrder),
        new("galore", "galore", OptimizerFamily.LowRankProjected, 0, AscentDirection.ZerothOrder),
        new("lora", "lora", OptimizerFamily.LowRankAdapter, 0, AscentDirection.ZerothOrder),
        new("lorenza", "lorenza", OptimizerFamily.LowRankProjected, 0.05, AscentDirection.ZerothOrder),
        new("lorenza rho=0", "lorenza", OptimizerFamily.LowRankProjected, 0, AscentDirection.ZerothOrder),
        new("lorenza momentum", "lorenza", OptimizerFamily.LowRankProjected, 0.05, AscentDirection.Momentum),
    ];

    /// <summary>Run only when named with --only: the paper's LORENZA and the other embedding treatments, for the ablation of the defaults.</summary>
    public static readonly IReadOnlyList<ComparisonMethod> Ablations =
    [
        new("lorenza paper", "lorenza", OptimizerFamily.LowRankProjected, 0.05, AscentDirection.ZerothOrder, 1, WordEmbeddingTreatment.Full),
        new("lorenza whole-batch probes", "lorenza", OptimizerFamily.LowRankProjected, 0.05, AscentDirection.ZerothOrder, 1),
        new("lorenza full embeddings", "lorenza", OptimizerFamily.LowRankProjected, 0.05, AscentDirection.ZerothOrder, WordEmbeddings: WordEmbeddingTreatment.Full),
        new("lorenza frozen embeddings", "lorenza", OptimizerFamily.LowRankProjected, 0.05, AscentDirection.ZerothOrder, WordEmbeddings: WordEmbeddingTreatment.Frozen),
    ];
}

/// <summary>
/// The settings every run of one comparison shares, and the per-family hyper-parameters.
/// From scratch: the earlier settings (lr 3e-3 for every family, batch 32, length 64).
/// Pretrained (fine-tuning, after the GaLore paper's RoBERTa-on-GLUE setup: batch 16, rank 8 with scale α = 2
/// for the projected methods at the full-rank learning rate, LoRA at the LoRA paper's 5e-4 with α/r = 1, ρ = 0.05,
/// linear decay with 6 % warm-up), with the learning rates raised from their 1e-5–3e-5 to 1e-4 because our runs
/// are a few dozen steps, not 30 epochs (--lr sets it; LoRA takes 5×). T = 50 so the subspace is refreshed within the short runs.
/// A null <see cref="FineTuningRate"/> fine-tunes every method at the product's defaults instead: the learning rate of its
/// family (<see cref="TrainingOptions.DefaultLearningRate"/>), and the default rank, scale and refresh interval.
/// </summary>
public sealed record ComparisonSettings(bool Pretrained, string? PretrainedModelPath, int Epochs, int BatchSize, int MaxSequenceLength, double? FineTuningRate = 1e-4,
                                        ComputePrecision Precision = ComputePrecision.Auto)
{
    private bool ProductDefaults => Pretrained && FineTuningRate is null;

    public TrainingOptions For(ComparisonMethod method, ulong seed)
    {
        var options = new TrainingOptions
        {
            Model = { PretrainedModelPath = PretrainedModelPath, Preset = PretrainedModelPath is null ? ModelPreset.Tiny : null },
            Data = { MaxSequenceLength = MaxSequenceLength },
            Optimizer =
            {
                Algorithm = OptimizerFactory.Find(method.Optimizer).Algorithm, LearningRateSchedule = ScheduleShape.Linear,
                Rho = method.Rho, AscentDirection = method.Ascent, Seed = seed, ProbeBatchFraction = method.ProbeBatchFraction, WordEmbeddings = method.WordEmbeddings,
            },
            Loop = { Epochs = Epochs, BatchSize = BatchSize, Seed = seed },
            Compute = { Device = "cpu", Precision = Precision },
        };
        if (!ProductDefaults)
            (options.Optimizer.LearningRate, options.Optimizer.Scale, options.Optimizer.Rank, options.Optimizer.RefreshInterval) = (LearningRate(method.Family), Scale(method.Family), 8, 50);
        return options;
    }

    public double LearningRate(OptimizerFamily family) => !Pretrained ? 3e-3 : FineTuningRate is not { } rate ? throw new InvalidOperationException("the product's defaults have a rate per optimizer")
        : family == OptimizerFamily.LowRankAdapter ? 5 * rate : rate;

    public double Scale(OptimizerFamily family) => Pretrained && family == OptimizerFamily.LowRankProjected ? 2.0 : 1.0;

    public string Describe(TorchSharp.torch.Device? device = null) => $"compute {ComputeOptions.Resolve(Precision, device ?? TorchSharp.torch.CPU)}; " + (Pretrained
        ? $"fine-tuning {PretrainedModelPath}: batch {BatchSize}, {Epochs} epoch(s), length ≤ {MaxSequenceLength}, linear schedule with 6 % warm-up; "
          + (ProductDefaults ? DescribeProductDefaults()
              : $"lr {FineTuningRate:0.#e0} for AdamW/SAM and for GaLore/LORENZA (rank 8, α = 2, T = 50), {5 * FineTuningRate:0.#e0} for LoRA (rank 8, α/r = 1); ρ = 0.05")
        : $"tiny RoBERTa from scratch: batch {BatchSize}, {Epochs} epoch(s), length ≤ {MaxSequenceLength}, lr 3e-3 linear, rank 8, T = 50");

    private static string DescribeProductDefaults()
    {
        var defaults = new OptimizerOptions();
        string Rate(string optimizer) => TrainingOptions.DefaultLearningRate(OptimizerFactory.Find(optimizer).Algorithm, pretrained: true).ToString("0.#e0", CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture, $"every arm at the product's defaults: lr {Rate("adamw")} AdamW/SAM, {Rate("galore")} GaLore/LORENZA, {Rate("lora")} LoRA (#33's sweep); "
            + $"rank {defaults.Rank}, scale {defaults.Scale}, T = {defaults.RefreshInterval}; ρ as the arm says");
    }
}
