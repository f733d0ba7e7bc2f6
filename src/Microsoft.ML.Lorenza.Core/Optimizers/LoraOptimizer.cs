using Microsoft.ML.Lorenza.Modeling;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Optimizers;

/// <summary>
/// LoRA (Hu et al., 2021) as a baseline for the comparisons in docs/design.md. Each managed weight W (m×n) is
/// frozen and gets trainable factors B (m×r, zeros) and A (r×n, uniform ±1/√n as torch.nn.Linear and PEFT
/// initialize), applied as the side branch ΔW = Scale·B·A of <see cref="SideBranchLinear.Delta"/>; AdamW trains A, B and
/// every unmanaged parameter, exactly as LORENZA and GaLore train those. So the comparison differs only in
/// how the managed matrices learn. <see cref="Finish"/> (the trainer calls it after the last step) folds ΔW into W
/// and removes the branch, so the trained model is a plain RoBERTa again. Rank = <see cref="OptimizerOptions.Rank"/>;
/// Scale (α/r in the paper's terms) = <see cref="OptimizerOptions.Scale"/>. Memory: A, B and their two moments,
/// 3·r·(m + n) floats per matrix.
/// </summary>
public sealed class LoraOptimizer : IOptimizer
{
    private readonly List<Adapter> adapters = [];
    private readonly AdamFamilyOptimizer adam;
    private readonly double scale;
    private bool finished;

    public LoraOptimizer(IReadOnlyList<OptimizedParameter> parameters, OptimizerOptions options, LearningRateSchedule schedule)
    {
        options.Validate();
        var managed = parameters.Where(p => p.Managed).ToList();
        if (managed.Count == 0) throw new ArgumentException("LoRA adapts managed weights, but no parameter is managed; check the ManagedParameterRule.");
        options.WordEmbeddingsFor(OptimizerAlgorithm.Lora); // refused here, before any weight is frozen, not by the inner AdamW
        foreach (var p in managed) // all checks before any weight is frozen, so a refusal leaves the model as it was
        {
            if (p.Layer is null) throw new ArgumentException($"{p.Name} is managed but not a SideBranchLinear weight: LoRA needs the layer's side branch.");
            SubspaceProjector.CheckRank(p, options.Rank);
        }
        scale = options.Scale;
        using var generator = new Generator(options.Seed ^ 0x4C6F5241UL); // "LoRA": its own stream, independent of the model's init
        foreach (var p in managed)
        {
            long m = p.Tensor.size(0), n = p.Tensor.size(1);
            var bound = 1 / Math.Sqrt(n);
            Tensor a, b;
            using (torch.no_grad())
            {
                using var cpu = torch.empty([options.Rank, n]).uniform_(-bound, bound, generator);
                a = cpu.to(p.Tensor.device).DetachFromDisposeScope().requires_grad_();
                b = torch.zeros([m, options.Rank], device: p.Tensor.device).DetachFromDisposeScope().requires_grad_();
            }
            p.Tensor.requires_grad_(false);
            p.Layer!.Delta = new LowRankDelta(b, a, scale);
            adapters.Add(new Adapter(p, a, b));
        }
        var trained = parameters.Where(p => !p.Managed)
            .Concat(adapters.SelectMany(x => new[] { new OptimizedParameter(x.Weight.Name + ".lora_A", x.A, null, false), new OptimizedParameter(x.Weight.Name + ".lora_B", x.B, null, false) }))
            .ToList();
        adam = new AdamFamilyOptimizer(OptimizerAlgorithm.AdamW, trained, options, schedule, Subspace.None, Ascent.None);
    }

    public string Name => "lora";
    public int StepCount => adam.StepCount;
    public int SkippedSteps => adam.SkippedSteps;
    /// <summary>The adapters themselves plus AdamW's moments of everything trained.</summary>
    public long StateBytes => adam.StateBytes + adapters.Sum(x => (x.A.numel() + x.B.numel()) * 4L);
    public IReadOnlyDictionary<string, double> LastDiagnostics => adam.LastDiagnostics;

    public StepResult Step(LossClosure closure)
    {
        if (finished) throw new InvalidOperationException("LoRA has folded its adapters into the weights (Finish); create a new optimizer to train again.");
        return adam.Step(closure);
    }

    /// <summary>W ← W + Scale·B·A for every adapted weight; the side branches are removed and W is trainable again.</summary>
    public void Finish()
    {
        if (finished) return;
        finished = true;
        adam.Finish();
        using var noGrad = torch.no_grad();
        using var alpha = scale.ToScalar();
        foreach (var x in adapters)
        {
            using var scope = torch.NewDisposeScope();
            x.Weight.Tensor.add_(torch.matmul(x.B, x.A), alpha);
            x.Weight.Layer!.Delta = null;
            x.Weight.Tensor.requires_grad_(true);
        }
    }

    public void SaveState(IDictionary<string, Tensor> into, string prefix = "optimizer.")
    {
        adam.SaveState(into, prefix);
        foreach (var x in adapters)
        {
            into[$"{prefix}{x.Weight.Name}.lora_A"] = x.A.detach().clone().DetachFromDisposeScope();
            into[$"{prefix}{x.Weight.Name}.lora_B"] = x.B.detach().clone().DetachFromDisposeScope();
        }
    }

    public void LoadState(IReadOnlyDictionary<string, Tensor> from, string prefix = "optimizer.")
    {
        using (torch.no_grad())
            foreach (var x in adapters)
            {
                Tensor Take(string suffix) => from.TryGetValue($"{prefix}{x.Weight.Name}.{suffix}", out var t) ? t
                    : throw new InvalidDataException($"The checkpoint has no {prefix}{x.Weight.Name}.{suffix}: it was not written by LoRA.");
                x.A.copy_(Take("lora_A"));
                x.B.copy_(Take("lora_B"));
            }
        adam.LoadState(from, prefix);
    }

    /// <summary>Frees the adapters, folding them into the weights first if <see cref="Finish"/> was not called.</summary>
    public void Dispose()
    {
        Finish();
        adam.Dispose();
        foreach (var x in adapters)
        {
            x.A.Dispose();
            x.B.Dispose();
        }
        adapters.Clear();
    }

    private sealed record Adapter(OptimizedParameter Weight, Tensor A, Tensor B);
}
