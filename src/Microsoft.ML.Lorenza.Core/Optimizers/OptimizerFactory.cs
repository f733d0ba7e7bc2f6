namespace Microsoft.ML.Lorenza.Optimizers;

/// <summary>
/// One optimizer the engine offers: its name (what the CLI, ML.NET and benchmarks pick it by), whether it keeps a
/// projected subspace (so the word embedding can be low-rank), its word-embedding default, and how to make it.
/// </summary>
public sealed record OptimizerKind(
    string Name,
    bool Projected,
    WordEmbeddingTreatment DefaultWordEmbeddings,
    Func<IReadOnlyList<OptimizedParameter>, OptimizerOptions, LearningRateSchedule, IOptimizer> Create);

/// <summary>
/// The one list of optimizers. Adding one is an entry here; ML.NET's <c>LorenzaOptimizer</c> enum and the CLI's
/// --optimizer help must name it too (the options tests say so when they do not).
/// </summary>
public static class OptimizerFactory
{
    private static Ascent ZerothOrderAscent(OptimizerOptions o) => o.AscentDirection == AscentDirection.Momentum ? Ascent.Momentum : Ascent.ZerothOrder;

    public static readonly IReadOnlyList<OptimizerKind> Kinds =
    [
        // LORENZA keeps its embedding low-rank by default (a departure chosen by measurement: README, "LORENZA at GaLore's cost").
        new("lorenza", Projected: true, WordEmbeddingTreatment.LowRank,
            (p, o, s) => new AdamFamilyOptimizer("lorenza", p, o, s, Subspace.RangeFinder, ZerothOrderAscent(o))),
        new("adazosam", Projected: false, WordEmbeddingTreatment.Full,
            (p, o, s) => new AdamFamilyOptimizer("adazosam", p, o, s, Subspace.None, ZerothOrderAscent(o))),
        new("galore", Projected: true, WordEmbeddingTreatment.Full,
            (p, o, s) => new AdamFamilyOptimizer("galore", p, o, s, Subspace.Svd, Ascent.None)),
        new("sam", Projected: false, WordEmbeddingTreatment.Full,
            (p, o, s) => new AdamFamilyOptimizer("sam", p, o, s, Subspace.None, Ascent.Gradient)),
        new("adamw", Projected: false, WordEmbeddingTreatment.Full,
            (p, o, s) => new AdamFamilyOptimizer("adamw", p, o, s, Subspace.None, Ascent.None)),
        new("lora", Projected: false, WordEmbeddingTreatment.Full,
            (p, o, s) => new LoraOptimizer(p, o, s)),
    ];

    public static readonly IReadOnlyList<string> Names = [.. Kinds.Select(k => k.Name)];

    /// <summary>The optimizer called <paramref name="name"/> (any case); an unknown name is refused, listing the known ones.</summary>
    public static OptimizerKind Find(string name) =>
        Kinds.FirstOrDefault(k => string.Equals(k.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown optimizer '{name}'. Use one of: {string.Join(", ", Names)}.", nameof(name));

    public static IOptimizer Create(string name, IReadOnlyList<OptimizedParameter> parameters, OptimizerOptions options, LearningRateSchedule schedule) =>
        Find(name).Create(parameters, options, schedule);
}
