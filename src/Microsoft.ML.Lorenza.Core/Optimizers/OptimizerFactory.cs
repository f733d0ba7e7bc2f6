using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Optimizers;

/// <summary>
/// The optimizers the engine offers, as every surface picks them: <c>--optimizer</c> (the value in lowercase: adamw),
/// ML.NET's <c>Optimizer</c> field, <see cref="OptimizerOptions.Algorithm"/>. Adding one is a value here and its entry
/// below in <see cref="OptimizerFactory.Kinds"/> (a test fails while a value has none).
/// </summary>
[OneWordValues]
public enum OptimizerAlgorithm
{
    /// <summary>LORENZA: zeroth-order adaptive SAM in a low-rank gradient subspace (the default).</summary>
    Lorenza,
    /// <summary>AdaZo-SAM: the zeroth-order SAM ascent with full-rank Adam.</summary>
    AdaZoSam,
    /// <summary>GaLore-style low-rank Adam, no ascent (LORENZA with rho = 0, published projector).</summary>
    GaLore,
    /// <summary>SAM with Adam: a full gradient ascent step (two backward passes per step).</summary>
    Sam,
    /// <summary>Plain AdamW.</summary>
    AdamW,
    /// <summary>LoRA: frozen weights with trainable low-rank adapters (Rank, Scale), folded into the weights at the end.</summary>
    Lora,
}

/// <summary>
/// One optimizer the engine offers: its <see cref="OptimizerAlgorithm"/> value and name (what the CLI, lorenza.json and
/// benchmarks call it), whether it keeps a projected subspace (so the word embedding can be low-rank), its word-embedding
/// default, and how to make it.
/// </summary>
public sealed record OptimizerKind(
    OptimizerAlgorithm Algorithm,
    bool Projected,
    WordEmbeddingTreatment DefaultWordEmbeddings,
    Func<IReadOnlyList<OptimizedParameter>, OptimizerOptions, LearningRateSchedule, IOptimizer> Create)
{
    public string Name => Algorithm.Name;

    /// <summary>How it steps, which decides its default learning rate (<see cref="TrainingOptions.DefaultLearningRate"/>).</summary>
    public OptimizerFamily Family => Algorithm == OptimizerAlgorithm.Lora ? OptimizerFamily.LowRankAdapter
        : Projected ? OptimizerFamily.LowRankProjected : OptimizerFamily.FullRank;
}

/// <summary>How an optimizer steps: each family takes its own learning rate (GaLore and LoRA users set theirs apart from AdamW's).</summary>
public enum OptimizerFamily
{
    /// <summary>Adam on every weight (AdamW, SAM, AdaZo-SAM).</summary>
    FullRank,
    /// <summary>Adam in a rank-r projection of each weight matrix's gradient (LORENZA, GaLore).</summary>
    LowRankProjected,
    /// <summary>Frozen weights with trained low-rank adapters (LoRA).</summary>
    LowRankAdapter,
}

/// <summary>The registry of optimizers: one entry per <see cref="OptimizerAlgorithm"/> value, in its order.</summary>
public static class OptimizerFactory
{
    extension(OptimizerAlgorithm algorithm)
    {
        /// <summary>The optimizer's name on the command line, in lorenza.json, checkpoints and reports: the value in lowercase ("adamw").</summary>
        public string Name => algorithm.ToString().ToLowerInvariant();
    }

    private static Ascent ZerothOrderAscent(OptimizerOptions o) => o.AscentDirection == AscentDirection.Momentum ? Ascent.Momentum : Ascent.ZerothOrder;

    public static readonly IReadOnlyList<OptimizerKind> Kinds =
    [
        // LORENZA keeps its embedding low-rank by default (a departure chosen by measurement: docs/benchmarks.md, "LORENZA at GaLore's cost").
        new(OptimizerAlgorithm.Lorenza, Projected: true, WordEmbeddingTreatment.LowRank,
            (p, o, s) => new AdamFamilyOptimizer(OptimizerAlgorithm.Lorenza, p, o, s, Subspace.RangeFinder, ZerothOrderAscent(o))),
        new(OptimizerAlgorithm.AdaZoSam, Projected: false, WordEmbeddingTreatment.Full,
            (p, o, s) => new AdamFamilyOptimizer(OptimizerAlgorithm.AdaZoSam, p, o, s, Subspace.None, ZerothOrderAscent(o))),
        new(OptimizerAlgorithm.GaLore, Projected: true, WordEmbeddingTreatment.Full,
            (p, o, s) => new AdamFamilyOptimizer(OptimizerAlgorithm.GaLore, p, o, s, Subspace.Svd, Ascent.None)),
        new(OptimizerAlgorithm.Sam, Projected: false, WordEmbeddingTreatment.Full,
            (p, o, s) => new AdamFamilyOptimizer(OptimizerAlgorithm.Sam, p, o, s, Subspace.None, Ascent.Gradient)),
        new(OptimizerAlgorithm.AdamW, Projected: false, WordEmbeddingTreatment.Full,
            (p, o, s) => new AdamFamilyOptimizer(OptimizerAlgorithm.AdamW, p, o, s, Subspace.None, Ascent.None)),
        new(OptimizerAlgorithm.Lora, Projected: false, WordEmbeddingTreatment.Full,
            (p, o, s) => new LoraOptimizer(p, o, s)),
    ];

    public static readonly IReadOnlyList<string> Names = [.. Kinds.Select(k => k.Name)];

    /// <summary>The registry entry of <paramref name="algorithm"/>.</summary>
    public static OptimizerKind Of(OptimizerAlgorithm algorithm) =>
        Kinds.FirstOrDefault(k => k.Algorithm == algorithm)
        ?? throw new ArgumentException($"Optimizer = '{algorithm}' is unknown: use one of {string.Join(", ", Names)}.", nameof(algorithm));

    /// <summary>The optimizer called <paramref name="name"/> (any case); an unknown name is refused, listing the known ones.</summary>
    public static OptimizerKind Find(string name) =>
        Kinds.FirstOrDefault(k => string.Equals(k.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown optimizer '{name}'. Use one of: {string.Join(", ", Names)}.", nameof(name));

    public static IOptimizer Create(OptimizerAlgorithm algorithm, IReadOnlyList<OptimizedParameter> parameters, OptimizerOptions options, LearningRateSchedule schedule) =>
        Of(algorithm).Create(parameters, options, schedule);

    public static IOptimizer Create(string name, IReadOnlyList<OptimizedParameter> parameters, OptimizerOptions options, LearningRateSchedule schedule) =>
        Find(name).Create(parameters, options, schedule);
}
