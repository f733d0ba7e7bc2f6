namespace Microsoft.ML.Lorenza.Modeling;

/// <summary>
/// Low-rank changes put on layers for the span of a <c>using</c> block: <see cref="Set"/> puts one on a layer, and
/// Dispose takes every one it put off again, on every way out of the block (a probe or a backward that throws
/// included). This is how an optimizer perturbs the model; <see cref="SideBranchLinear.Delta"/> cannot be set from
/// outside the engine.
/// </summary>
public sealed class Perturbation : IDisposable
{
    private readonly List<SideBranchLinear> layers = [];

    /// <summary>Puts <paramref name="delta"/> on <paramref name="layer"/>; a change this scope did not put there (LoRA's adapters) is refused.</summary>
    public void Set(SideBranchLinear layer, LowRankDelta delta)
    {
        var ours = layers.Contains(layer);
        if (layer.Delta is not null && !ours)
            throw new InvalidOperationException("The layer already carries a low-rank change this perturbation did not set (LoRA's adapters?); two cannot share a layer.");
        layer.Delta = delta;
        if (!ours) layers.Add(layer);
    }

    public void Dispose()
    {
        foreach (var layer in layers) layer.Delta = null;
        layers.Clear();
    }
}
