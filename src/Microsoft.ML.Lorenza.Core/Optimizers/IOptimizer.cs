using Microsoft.ML.Lorenza.Modeling;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Optimizers;

/// <summary>How the optimizer asks the trainer for a loss.</summary>
public enum LossMode
{
    /// <summary>Inference: no dropout, no autograd. Used by zeroth-order probes (possibly on a part of the batch).</summary>
    Eval,

    /// <summary>Training: forward and backward (gradients accumulate into .grad); the closure runs both.</summary>
    Train,
}

/// <summary>
/// Evaluates the loss of the current mini-batch at the model's current (possibly perturbed) weights.
/// In <see cref="LossMode.Train"/> the closure also calls backward, so gradient accumulation over
/// micro-batches lives in the closure. In <see cref="LossMode.Eval"/>, <paramref name="batchFraction"/> &lt; 1 asks for
/// the loss of the first ⌈fraction · rows⌉ rows only (<see cref="OptimizerOptions.ProbeBatchFraction"/>); Train
/// always uses the whole batch. Returns the loss value.
/// </summary>
public delegate double LossClosure(LossMode mode, double batchFraction = 1);

/// <summary>A parameter to optimize; <paramref name="Layer"/> is the linear layer whose weight it is, if any;
/// <paramref name="WordEmbedding"/> marks the token embedding matrix (<see cref="OptimizerOptions.WordEmbeddings"/> decides its treatment).</summary>
public sealed record OptimizedParameter(string Name, Tensor Tensor, SideBranchLinear? Layer, bool Managed, bool WordEmbedding = false);

/// <summary>What one step did.</summary>
public sealed record StepResult(double Loss, bool Skipped, double LearningRate, double Rho);

/// <summary>
/// The one interface the trainer, the CLI, the benchmarks and the ML.NET layer drive. An optimizer
/// clears gradients itself before each backward it asks for.
/// </summary>
public interface IOptimizer : IDisposable
{
    /// <summary>The name it is created by: adamw, sam, galore, adazosam, lorenza.</summary>
    string Name { get; }

    /// <summary>Steps taken so far (including skipped ones).</summary>
    int StepCount { get; }

    /// <summary>Steps skipped because a loss or gradient was NaN/Inf.</summary>
    int SkippedSteps { get; }

    /// <summary>Bytes of optimizer state (moments, bases) held now.</summary>
    long StateBytes { get; }

    /// <summary>Per-step measurements of the last step (ascent alignment, captured fraction, ρ_t, …).</summary>
    IReadOnlyDictionary<string, double> LastDiagnostics { get; }

    StepResult Step(LossClosure closure);

    /// <summary>
    /// Ends training and leaves the model as training made it, with nothing of the optimizer's attached: LoRA folds its
    /// adapters into the weights, a frozen embedding is trainable again, no perturbation stays set. The trainer calls it
    /// after the last step; <see cref="IDisposable.Dispose"/> calls it too when nobody did. Steps after it are refused.
    /// </summary>
    void Finish();

    /// <summary>Adds every state tensor (copies) to <paramref name="into"/>, names prefixed by <paramref name="prefix"/>.</summary>
    void SaveState(IDictionary<string, Tensor> into, string prefix = "optimizer.");

    /// <summary>Restores what <see cref="SaveState"/> wrote; continuing then is bit-identical to never stopping.</summary>
    void LoadState(IReadOnlyDictionary<string, Tensor> from, string prefix = "optimizer.");
}
