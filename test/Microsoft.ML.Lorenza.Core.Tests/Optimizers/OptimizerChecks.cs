using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Tests.Optimizers;

/// <summary>A seeded 6→4 linear least-squares problem, small enough to replay in PyTorch from its JSON.</summary>
internal sealed class SmallRegression : IDisposable
{
    public SmallRegression(ulong seed = 5)
    {
        using var g = new Generator(seed);
        using (torch.no_grad())
        {
            using var w = torch.randn([4, 6], generator: g);
            using var b = torch.randn([4], generator: g);
            Model.weight.copy_(w);
            Model.bias!.copy_(b);
        }
        X = torch.randn([10, 6], generator: g).DetachFromDisposeScope();
        Y = torch.randn([10, 4], generator: g).DetachFromDisposeScope();
        InitialWeight = Model.weight.ToArray<float>();
        InitialBias = Model.bias!.ToArray<float>();
    }

    public SideBranchLinear Model { get; } = new(6, 4);
    public Tensor X { get; }
    public Tensor Y { get; }
    public float[] InitialWeight { get; }
    public float[] InitialBias { get; }

    /// <summary>A reference script's request: the problem (w, shape, b, x, x_shape, y) and the script's own fields.</summary>
    public Dictionary<string, object> Request(Dictionary<string, object> scriptFields)
    {
        var request = new Dictionary<string, object>(scriptFields)
        {
            ["w"] = InitialWeight, ["shape"] = new[] { 4, 6 }, ["b"] = InitialBias, ["x"] = X.ToArray<float>(), ["x_shape"] = new[] { 10, 6 }, ["y"] = Y.ToArray<float>(),
        };
        return request;
    }

    public double Closure(LossMode mode, double batchFraction = 1)
    {
        using var loss = (Model.forward(X) - Y).pow(2).mean();
        loss.backward();
        return loss.item<float>();
    }

    /// <summary>The trained weight and bias, flattened in that order.</summary>
    public float[] Parameters()
    {
        using var scope = torch.NewDisposeScope();
        return Model.weight.detach().ToArray<float>().Concat(Model.bias!.detach().ToArray<float>()).ToArray();
    }

    public void Dispose()
    {
        Model.Dispose();
        X.Dispose();
        Y.Dispose();
    }
}

/// <summary>Checks every optimizer must pass, written once.</summary>
internal static class OptimizerChecks
{
    /// <summary>
    /// Weights after 2·<paramref name="half"/> uninterrupted steps, and after <paramref name="half"/> steps, a save
    /// of the optimizer state and the model (as a checkpoint holds them), a load into a fresh problem and a fresh
    /// optimizer created with <paramref name="resumeWith"/> (default: the same options), and the other half.
    /// Weights are read after the optimizer is disposed (LoRA folds its adapters then).
    /// </summary>
    public static (float[] Straight, float[] Resumed) StraightAndResumed(string name, OptimizerOptions options, OptimizerOptions? resumeWith = null, int half = 5)
    {
        IOptimizer Create(OptimizerTestProblem problem, OptimizerOptions o) =>
            OptimizerFactory.Create(name, problem.Parameters(), o, new ConstantSchedule(o.LearningRate ?? 2e-5));

        float[] straight;
        using (var problem = new OptimizerTestProblem())
        {
            using (var optimizer = Create(problem, options))
                for (var i = 0; i < 2 * half; i++) optimizer.Step(problem.Closure);
            straight = problem.Weights();
        }

        var saved = new Dictionary<string, Tensor>();
        Dictionary<string, Tensor> weights;
        using (var problem = new OptimizerTestProblem())
        using (var optimizer = Create(problem, options))
        {
            for (var i = 0; i < half; i++) optimizer.Step(problem.Closure);
            optimizer.SaveState(saved);
            weights = problem.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope());
        }
        using var fresh = new OptimizerTestProblem();
        using (torch.no_grad()) foreach (var (key, p) in fresh.state_dict()) p.copy_(weights[key]);
        using (var resumed = Create(fresh, resumeWith ?? options))
        {
            resumed.LoadState(saved);
            for (var i = 0; i < half; i++) resumed.Step(fresh.Closure);
        }
        foreach (var t in saved.Values.Concat(weights.Values)) t.Dispose();
        return (straight, fresh.Weights());
    }
}
