using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Tests.Optimizers;

/// <summary>
/// A seeded least-squares problem for the batched low-rank update: a deep linear model 16 → 24 → 16 → 24 → 16 → 8, so two
/// 24×16 weights share a shape (right bases), two 16×24 weights share another (left bases), and the last weight (8×16)
/// and its bias are alone. Loss mean((x·W1ᵀ·…·W5ᵀ + b − y)²).
/// </summary>
internal sealed class SameShapeTestProblem : nn.Module
{
    public readonly SideBranchLinear up1, down1, up2, down2, last;

    public SameShapeTestProblem(ulong seed = 2, int samples = 32) : base(nameof(SameShapeTestProblem))
    {
        (up1, down1, up2, down2) = (new(16, 24, hasBias: false), new(24, 16, hasBias: false), new(16, 24, hasBias: false), new(24, 16, hasBias: false));
        last = new SideBranchLinear(16, 8);
        RegisterComponents();
        using var g = new Generator(seed);
        using (torch.no_grad())
            foreach (var layer in Layers)
            {
                using var w = torch.randn(layer.weight.shape, generator: g) * 0.3;
                layer.weight.copy_(w);
            }
        X = torch.randn([samples, 16], generator: g).DetachFromDisposeScope();
        Y = torch.randn([samples, 8], generator: g).DetachFromDisposeScope();
    }

    private SideBranchLinear[] Layers => [up1, down1, up2, down2, last];

    public Tensor X { get; }
    public Tensor Y { get; }

    public double Closure(LossMode mode, double batchFraction = 1)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = mode == LossMode.Eval ? torch.no_grad() : null;
        var loss = (Layers.Aggregate(X, (x, layer) => layer.forward(x)) - Y).pow(2).mean();
        if (mode != LossMode.Eval) loss.backward();
        return loss.item<float>();
    }

    public IReadOnlyList<OptimizedParameter> Parameters() => ManagedParameterRule.AllLinearWeights.Apply(this);

    public float[] Weights() => named_parameters().SelectMany(p => p.parameter.detach().ToArray<float>()).ToArray();
}
