namespace Microsoft.ML.Lorenza.Optimizers;

/// <summary>Creates optimizers by name, so the CLI, the ML.NET layer and benchmarks pick them with a string.</summary>
public static class OptimizerFactory
{
    public static readonly IReadOnlyList<string> Names = ["lorenza", "adazosam", "galore", "sam", "adamw", "lora"];

    public static IOptimizer Create(string name, IReadOnlyList<OptimizedParameter> parameters, OptimizerOptions options, LearningRateSchedule schedule)
    {
        var zo = options.AscentDirection == AscentDirection.Momentum ? Ascent.Momentum : Ascent.ZerothOrder;
        return name.ToLowerInvariant() switch
        {
            "adamw" => new AdamFamilyOptimizer("adamw", parameters, options, schedule, Subspace.None, Ascent.None),
            "sam" => new AdamFamilyOptimizer("sam", parameters, options, schedule, Subspace.None, Ascent.Gradient),
            "galore" => new AdamFamilyOptimizer("galore", parameters, options, schedule, Subspace.Svd, Ascent.None),
            "adazosam" => new AdamFamilyOptimizer("adazosam", parameters, options, schedule, Subspace.None, zo),
            "lorenza" => new AdamFamilyOptimizer("lorenza", parameters, options, schedule, Subspace.RangeFinder, zo),
            "lora" => new LoraOptimizer(parameters, options, schedule),
            _ => throw new ArgumentException($"Unknown optimizer '{name}'. Use one of: {string.Join(", ", Names)}.", nameof(name)),
        };
    }
}
