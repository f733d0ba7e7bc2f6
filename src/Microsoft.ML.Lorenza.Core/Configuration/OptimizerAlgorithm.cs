namespace Microsoft.ML.Lorenza.Configuration;

/// <summary>
/// The optimizers the engine offers, as every surface picks them: <c>--optimizer</c> (the value in lowercase: adamw),
/// ML.NET's <c>Optimizer</c> field, <see cref="OptimizerOptions.Algorithm"/>. Adding one is a value here and its entry
/// in <see cref="Optimizers.OptimizerFactory.Kinds"/> (a test fails while a value has none).
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
