using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Tests.Optimizers;

/// <summary>
/// A small seeded least-squares problem: a two-layer linear model (so there are left- and right-basis
/// matrices) with loss mean((x·W1ᵀ·W2ᵀ + b − y)²). Quadratic in each weight, so central differences are exact.
/// </summary>
internal sealed class OptimizerTestProblem : nn.Module
{
    public readonly SideBranchLinear first;
    public readonly SideBranchLinear second;

    public OptimizerTestProblem(long input = 16, long hidden = 24, long output = 8, ulong seed = 1, int samples = 32) : base(nameof(OptimizerTestProblem))
    {
        first = new SideBranchLinear(input, hidden, hasBias: false);
        second = new SideBranchLinear(hidden, output);
        RegisterComponents();
        using var g = new Generator(seed);
        using (torch.no_grad())
        {
            using var w1 = torch.randn([hidden, input], generator: g) * 0.3;
            using var w2 = torch.randn([output, hidden], generator: g) * 0.3;
            first.weight.copy_(w1);
            second.weight.copy_(w2);
        }
        X = torch.randn([samples, input], generator: g).DetachFromDisposeScope();
        Y = torch.randn([samples, output], generator: g).DetachFromDisposeScope();
    }

    // Data, not parameters: properties, which RegisterComponents does not see.
    public Tensor X { get; }
    public Tensor Y { get; }

    public Tensor Loss()
    {
        using var scope = torch.NewDisposeScope();
        return (second.forward(first.forward(X)) - Y).pow(2).mean().MoveToOuterDisposeScope();
    }

    /// <summary>The loss of all samples, whatever fraction a probe asks for: these tests check the paper's arithmetic.</summary>
    public double Closure(LossMode mode, double batchFraction = 1)
    {
        if (mode == LossMode.Eval)
        {
            using var noGrad = torch.no_grad();
            using var eval = Loss();
            return eval.item<float>();
        }
        using var loss = Loss();
        loss.backward();
        return loss.item<float>();
    }

    public IReadOnlyList<OptimizedParameter> Parameters() => ManagedParameterRule.AllLinearWeights.Apply(this);

    public float[] Weights() => named_parameters().SelectMany(p => p.parameter.detach().ToArray<float>()).ToArray();
}
