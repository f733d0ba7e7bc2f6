using System.Text.Json.Serialization;
using Microsoft.ML.Lorenza.Optimizers;

namespace Microsoft.ML.Lorenza.Configuration;

/// <summary>How the learning rate moves after the warm-up.</summary>
public enum ScheduleShape
{
    /// <summary>Warm-up, then linear decay to 0 at the last step (the default, as GLUE fine-tuning does).</summary>
    Linear,
    /// <summary>Warm-up, then cosine decay to 0.</summary>
    Cosine,
    /// <summary>The peak rate throughout, no warm-up.</summary>
    Constant,
}

/// <summary>The direction of the sharpness-aware ascent.</summary>
public enum AscentDirection
{
    /// <summary>The paper's two-point zeroth-order estimate from loss values only.</summary>
    ZerothOrder,

    /// <summary>Departure from the paper: the low-rank Adam first moment M (no extra forwards).</summary>
    Momentum,
}

/// <summary>How the token embedding matrix (the largest unmanaged parameter: 38.6 M of roberta-base's 125 M) is optimized.</summary>
public enum WordEmbeddingTreatment
{
    /// <summary>Plain AdamW with full moments, as GaLore and the paper treat every unmanaged parameter.</summary>
    Full,

    /// <summary>
    /// Adam in a rank-r subspace of its gradient, refreshed as the managed matrices' (LORENZA, GaLore only);
    /// never perturbed by the ascent. Moments of vocab×r instead of vocab×hidden.
    /// </summary>
    LowRank,

    /// <summary>Not trained: no gradient, no moments (what LoRA-style fine-tuning does with every pretrained weight).</summary>
    Frozen,
}

/// <summary>
/// The optimizer, its learning-rate schedule and every hyper-parameter of the optimizers, with the defaults of
/// docs/lorenza-algorithm.md (<see cref="TrainingOptions.Optimizer"/>). Options an optimizer does not use are ignored
/// (e.g. Rank by AdamW). The CLI and ML.NET expose each <see cref="OptionAttribute"/> property with these defaults.
/// </summary>
/// <remarks>
/// lorenza.json's "options" and the checkpoint fingerprint serialize the hyper-parameters; the optimizer and the
/// schedule are recorded beside them under their own keys, as before they were held here (hence the [JsonIgnore]s).
/// </remarks>
public sealed class OptimizerOptions
{
    [Option("--optimizer", "the optimizer: LORENZA, or a baseline (README, The optimizers)", MlNetName = "Optimizer")]
    [JsonIgnore]
    public OptimizerAlgorithm Algorithm { get; set; } = OptimizerAlgorithm.Lorenza;
    [Option("--lr-schedule", "decay of the learning rate after the warm-up (constant: no warm-up)")]
    [JsonIgnore]
    public ScheduleShape LearningRateSchedule { get; set; } = ScheduleShape.Linear;
    [Option("--warmup-fraction", "fraction of steps of linear warm-up")]
    [JsonIgnore]
    public double WarmupFraction { get; set; } = 0.06;

    /// <summary>Peak learning rate γ_max (the schedule scales it); null: <see cref="TrainingOptions.DefaultLearningRate"/>.</summary>
    [Option("--lr", "peak learning rate (default: fine-tuning 1e-3 lorenza/galore/lora, 1e-4 adazosam/sam/adamw; from scratch 3e-3 lorenza/galore, 1e-3 adazosam/sam/adamw/lora)")]
    public double? LearningRate { get; set; }
    [Option("--beta1", "Adam β₁ (first-moment decay)")]
    public double Beta1 { get; set; } = 0.9;
    [Option("--beta2", "Adam β₂ (second-moment decay)")]
    public double Beta2 { get; set; } = 0.999;
    [Option("--adam-epsilon", "Adam ε")]
    public double Epsilon { get; set; } = 1e-6;
    [Option("--weight-decay", "decoupled weight decay λ")]
    public double WeightDecay { get; set; }

    /// <summary>r: subspace rank per managed matrix.</summary>
    [Option("--rank", "LORENZA/GaLore subspace rank r per weight matrix (LoRA: the adapters' rank)")]
    public int Rank { get; set; } = 8;
    /// <summary>T: steps between subspace refreshes.</summary>
    [Option("--refresh-interval", "steps T between subspace refreshes")]
    public int RefreshInterval { get; set; } = 200;
    /// <summary>ς: refresh a matrix early when ‖PᵀG‖/‖G‖ drops below this (null: off).</summary>
    [Option("--refresh-tolerance", "refresh early when ‖PᵀG‖/‖G‖ falls below this (default off)")]
    public double? RefreshTolerance { get; set; }
    /// <summary>α: scale of the back-projected update.</summary>
    [Option("--scale", "α, scale of the back-projected update (LoRA: α/r)")]
    public double Scale { get; set; } = 1.0;
    /// <summary>ρ_max: SAM radius at the peak learning rate.</summary>
    [Option("--rho", "SAM radius ρ_max (follows the learning rate down to --rho-min); 0 turns the ascent off")]
    public double Rho { get; set; } = 0.05;
    /// <summary>ρ_min: SAM radius at the minimum learning rate.</summary>
    [Option("--rho-min", "SAM radius at the end of the schedule")]
    public double RhoMin { get; set; }
    /// <summary>μ: finite-difference step of the zeroth-order probes.</summary>
    [Option("--zo-smoothing", "μ, finite-difference step of the zeroth-order probes")]
    public double ZoSmoothing { get; set; } = 1e-3;
    /// <summary>q: random directions per step.</summary>
    [Option("--zo-queries", "q, random probe directions per step")]
    public int ZoQueries { get; set; } = 1;
    /// <summary>p: extra columns in the range finder.</summary>
    [Option("--oversampling", "p, extra range-finder columns")]
    public int Oversampling { get; set; }
    /// <summary>k: power iterations in the range finder.</summary>
    [Option("--power-iterations", "k, range-finder power iterations")]
    public int PowerIterations { get; set; }
    [Option("--ascent", "where the ascent comes from: zeroth-order probes (the paper) or momentum (departure: the low-rank first moment)")]
    public AscentDirection AscentDirection { get; set; } = AscentDirection.ZerothOrder;
    /// <summary>Reset the Adam moments when the subspace is refreshed (default: keep them, as GaLore).</summary>
    [Option("--reset-moments-on-refresh", "zero the Adam moments when the subspace is refreshed (default: keep them, as GaLore)")]
    public bool ResetMomentsOnRefresh { get; set; }
    /// <summary>
    /// Departure from the paper (docs/lorenza-algorithm.md, "Departures"): the zeroth-order probe losses
    /// L(θ ± μU) are taken on the first ⌈f · B⌉ rows of the batch instead of all B. 1 is the paper. The default,
    /// an eighth, was chosen by measurement (docs/benchmarks.md, "LORENZA at GaLore's cost"): the one-probe ascent's alignment with
    /// the gradient is indistinguishable from zero at every fraction, whole batches included, while each probe forward
    /// costs about f of a whole one.
    /// </summary>
    [Option("--probe-fraction", "share of the batch the zeroth-order probe losses use (1: the paper)")]
    public double ProbeBatchFraction { get; set; } = DefaultProbeBatchFraction;

    public const double DefaultProbeBatchFraction = 0.125;

    /// <summary>
    /// How the word embedding is optimized; null: the optimizer's default (<see cref="DefaultWordEmbeddings"/>), except
    /// that the trainer keeps <see cref="WordEmbeddingTreatment.Full"/> for a model trained from scratch, whose embedding
    /// must be learned from nothing. <see cref="WordEmbeddingTreatment.LowRank"/> needs a projected optimizer (LORENZA, GaLore).
    /// </summary>
    [Option("--word-embeddings", "how the token embedding is trained (default: low-rank for lorenza fine-tuning a pretrained model, full otherwise)")]
    public WordEmbeddingTreatment? WordEmbeddings { get; set; }

    /// <summary>
    /// The treatment a null <see cref="WordEmbeddings"/> means for <paramref name="optimizer"/> (<see cref="OptimizerKind.DefaultWordEmbeddings"/>):
    /// LORENZA keeps the embedding's moments low-rank (a departure from the paper, chosen by measurement: docs/benchmarks.md, "LORENZA at
    /// GaLore's cost"); every other optimizer trains it in full, as published.
    /// </summary>
    public static WordEmbeddingTreatment DefaultWordEmbeddings(string optimizer) => OptimizerFactory.Find(optimizer).DefaultWordEmbeddings;

    /// <summary>
    /// The treatment <paramref name="optimizer"/> applies (<see cref="WordEmbeddings"/>, or its default); throws when it is
    /// LowRank and the optimizer keeps no subspace (<see cref="OptimizerKind.Projected"/>: lorenza and galore).
    /// </summary>
    public WordEmbeddingTreatment WordEmbeddingsFor(OptimizerAlgorithm optimizer) => WordEmbeddingsFor(OptimizerFactory.Of(optimizer));

    /// <inheritdoc cref="WordEmbeddingsFor(OptimizerAlgorithm)"/>
    public WordEmbeddingTreatment WordEmbeddingsFor(string optimizer) => WordEmbeddingsFor(OptimizerFactory.Find(optimizer));

    private WordEmbeddingTreatment WordEmbeddingsFor(OptimizerKind kind)
    {
        var treatment = WordEmbeddings ?? kind.DefaultWordEmbeddings;
        if (treatment == WordEmbeddingTreatment.LowRank && !kind.Projected)
            throw new ArgumentException($"WordEmbeddings = LowRank needs a projected optimizer ({string.Join(" or ", OptimizerFactory.Kinds.Where(k => k.Projected).Select(k => k.Name))}), not {kind.Name}: use Full or Frozen.", nameof(WordEmbeddings));
        return treatment;
    }

    /// <summary>Seeds the optimizer's generator (probe seeds, range-finder Ω).</summary>
    [NotAnOption("the trainer sets it from the run's seed (LoopOptions.Seed)")]
    public ulong Seed { get; set; }
    /// <summary>Clip the global gradient norm to this (null: no clipping).</summary>
    [Option("--grad-clip", "clip the global gradient norm to this")]
    public double? MaxGradNorm { get; set; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the option, its value and the valid range.</summary>
    public void Validate()
    {
        OptimizerFactory.Of(Algorithm); // refuses a value without a registry entry, naming the known optimizers
        OptionCheck.That(Enum.IsDefined(LearningRateSchedule), nameof(LearningRateSchedule), LearningRateSchedule, "Linear, Cosine or Constant");
        OptionCheck.That(WarmupFraction is >= 0 and < 1, nameof(WarmupFraction), WarmupFraction, "in [0, 1) (a constant schedule ignores it, but it must still be a fraction)");
        OptionCheck.That(LearningRate is null || (LearningRate > 0 && double.IsFinite(LearningRate.Value)), nameof(LearningRate), LearningRate ?? 0, "a finite number > 0, or null for the default");
        OptionCheck.That(Beta1 is >= 0 and < 1, nameof(Beta1), Beta1, "in [0, 1)");
        OptionCheck.That(Beta2 is >= 0 and < 1, nameof(Beta2), Beta2, "in [0, 1)");
        OptionCheck.That(Epsilon > 0, nameof(Epsilon), Epsilon, "> 0");
        OptionCheck.That(WeightDecay >= 0, nameof(WeightDecay), WeightDecay, ">= 0");
        OptionCheck.That(Rank >= 1, nameof(Rank), Rank, ">= 1 (and at most min(m, n) of every managed matrix)");
        OptionCheck.That(RefreshInterval >= 1, nameof(RefreshInterval), RefreshInterval, ">= 1");
        OptionCheck.That(RefreshTolerance is null or (> 0 and <= 1), nameof(RefreshTolerance), RefreshTolerance ?? 0, "in (0, 1], or null for off");
        OptionCheck.That(Scale > 0, nameof(Scale), Scale, "> 0");
        OptionCheck.That(Rho >= 0, nameof(Rho), Rho, ">= 0");
        OptionCheck.That(RhoMin >= 0 && RhoMin <= Rho, nameof(RhoMin), RhoMin, $"in [0, Rho = {Rho}]");
        OptionCheck.That(ZoSmoothing > 0, nameof(ZoSmoothing), ZoSmoothing, "> 0");
        OptionCheck.That(ZoQueries >= 1, nameof(ZoQueries), ZoQueries, ">= 1");
        OptionCheck.That(Oversampling >= 0, nameof(Oversampling), Oversampling, ">= 0");
        OptionCheck.That(PowerIterations >= 0, nameof(PowerIterations), PowerIterations, ">= 0");
        OptionCheck.That(Enum.IsDefined(AscentDirection), nameof(AscentDirection), AscentDirection, "ZerothOrder or Momentum");
        OptionCheck.That(ProbeBatchFraction is > 0 and <= 1, nameof(ProbeBatchFraction), ProbeBatchFraction, "in (0, 1] (1: probes on the whole batch, as the paper)");
        OptionCheck.That(WordEmbeddings is null || Enum.IsDefined(WordEmbeddings.Value), nameof(WordEmbeddings), WordEmbeddings ?? 0, "Full, LowRank or Frozen, or null for the optimizer's default");
        OptionCheck.That(MaxGradNorm is null or > 0, nameof(MaxGradNorm), MaxGradNorm ?? 0, "> 0, or null for no clipping");
    }

    public OptimizerOptions Clone() => (OptimizerOptions)MemberwiseClone();
}
