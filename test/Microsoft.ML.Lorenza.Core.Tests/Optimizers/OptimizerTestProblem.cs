using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Torch;

namespace Microsoft.ML.Lorenza.Tests.Optimizers;

/// <summary>
/// A small seeded least-squares problem: a two-layer linear model (so there are left- and right-basis
/// matrices) with loss mean((x·W1ᵀ·W2ᵀ + b − y)²). Quadratic in each weight, so central differences are exact.
/// </summary>
internal sealed class OptimizerTestProblem : Module
{
    public OptimizerTestProblem(long input = 16, long hidden = 24, long output = 8, ulong seed = 1, int samples = 32)
    {
        first = register_module("first", new Linear(input, hidden, hasBias: false));
        second = register_module("second", new Linear(hidden, output));
        using var g = new Generator(seed);
        using (torch.no_grad())
        {
            using var w1 = torch.randn([hidden, input], g) * 0.3;
            using var w2 = torch.randn([output, hidden], g) * 0.3;
            first.weight.copy_(w1);
            second.weight.copy_(w2);
        }
        X = torch.randn([samples, input], g).DetachFromDisposeScope();
        Y = torch.randn([samples, output], g).DetachFromDisposeScope();
    }

    public Linear first { get; }
    public Linear second { get; }
    public Tensor X { get; }
    public Tensor Y { get; }

    public Tensor Loss()
    {
        using var scope = torch.NewDisposeScope();
        return (second.forward(first.forward(X)) - Y).pow(2).mean().MoveToOuterDisposeScope();
    }

    public double Closure(LossMode mode)
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
