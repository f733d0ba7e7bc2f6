using Microsoft.ML.Lorenza.Configuration;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Runtime;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Tests.Optimizers;

/// <summary>
/// The parts of the optimizers that exist for GPUs, checked on the CPU: the multi-tensor AdamW update (forced here) must
/// give the parameter-by-parameter update's numbers bit for bit, across a checkpoint too; bases have a sign that does not
/// depend on the library; seeded draws keep the CPU generator's stream. (test/gpu/run.sh checks them on a GPU.)
/// </summary>
[TestClass]
public sealed class DevicePathTests
{
    private static OptimizerOptions Options() => new() { LearningRate = 1e-2, WeightDecay = 0.01, Rho = 0.05, Rank = 4, RefreshInterval = 3, Seed = 3 };

    private static (float[] Weights, Dictionary<string, float[]> State) Run(string optimizerName, bool flat, int steps, int resumeAt = -1)
    {
        FlatAdamGroup.ForceOnCpu = flat;
        try
        {
            using var problem = new OptimizerTestProblem();
            // Only the first layer's weight is low-rank, so LORENZA has full-rank parameters (second.weight and .bias) too.
            IReadOnlyList<OptimizedParameter> Parameters() => new ManagedParameterRule { NamePattern = @"^first\.weight$" }.Apply(problem);
            var optimizer = OptimizerFactory.Create(optimizerName, Parameters(), Options(), new ConstantSchedule(1e-2));
            try
            {
                for (var step = 0; step < steps; step++)
                {
                    if (step == resumeAt)
                    {
                        // A checkpoint's state loaded into a new optimizer: the flat buffers are rebuilt from it.
                        var saved = new Dictionary<string, Tensor>();
                        optimizer.SaveState(saved);
                        optimizer.Dispose();
                        optimizer = OptimizerFactory.Create(optimizerName, Parameters(), Options(), new ConstantSchedule(1e-2));
                        optimizer.LoadState(saved);
                        foreach (var t in saved.Values) t.Dispose();
                    }
                    optimizer.Step(problem.Closure);
                }
                var state = new Dictionary<string, Tensor>();
                optimizer.SaveState(state);
                var arrays = state.ToDictionary(kv => kv.Key, kv => kv.Value.dtype == ScalarType.Float32 ? kv.Value.ToArray<float>() : kv.Value.to(ScalarType.Float32).ToArray<float>());
                foreach (var t in state.Values) t.Dispose();
                return (problem.Weights(), arrays);
            }
            finally
            {
                optimizer.Dispose();
            }
        }
        finally
        {
            FlatAdamGroup.ForceOnCpu = false;
        }
    }

    [TestMethod]
    [DataRow("adamw")]
    [DataRow("lorenza")]
    [DataRow("sam")]
    public void TheMultiTensorUpdateEqualsTheParameterByParameterOneBitForBit(string optimizer)
    {
        var taken = FlatAdamGroup.StepsTaken;
        var (perParameter, perParameterState) = Run(optimizer, flat: false, steps: 7);
        Assert.AreEqual(taken, FlatAdamGroup.StepsTaken, "not on the CPU unless forced");
        var (flat, flatState) = Run(optimizer, flat: true, steps: 7);
        Assert.AreEqual(taken + 7, FlatAdamGroup.StepsTaken, "the flat update ran every step");
        CollectionAssert.AreEqual(perParameter, flat, "weights");
        CollectionAssert.AreEquivalent(perParameterState.Keys, flatState.Keys);
        foreach (var (name, values) in perParameterState) CollectionAssert.AreEqual(values, flatState[name], name);

        var (resumed, _) = Run(optimizer, flat: true, steps: 7, resumeAt: 4);
        CollectionAssert.AreEqual(perParameter, resumed, "a checkpoint loaded mid-run");
    }

    [TestMethod]
    public void ABasisHasTheSameSignsWhicheverSignsTheLibraryGaveItsColumns()
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(5);
        var basis = torch.linalg.qr(torch.randn([40, 6], ScalarType.Float64, generator: g)).Q;
        var flipped = basis * torch.tensor(new double[] { -1, 1, -1, -1, 1, -1 });
        var canonical = SubspaceProjector.WithCanonicalSigns(basis);
        Assert.IsTrue(TensorAssert.Identical(canonical, SubspaceProjector.WithCanonicalSigns(flipped)), "the same basis whatever the columns' signs");
        var largest = canonical.gather(0, canonical.abs().argmax(0, keepdim: true));
        Assert.IsTrue(largest.gt(0).all().item<bool>(), "each column's largest entry is positive");
        Assert.IsTrue(torch.matmul(canonical.t(), canonical).allclose(torch.eye(6, dtype: ScalarType.Float64), 0, 1e-12), "still orthonormal");
    }

    [TestMethod]
    public void SeededDrawsOnTheCpuAreTheCpuGeneratorsStream()
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(123);
        var expected = torch.randn([7, 5], generator: g);
        Assert.IsTrue(TensorAssert.Identical(expected, SeededNormal.Draw([7, 5], 123, CPU)), "the generator of that seed");
        SeededNormal.DrawOnCpu = true;
        try { Assert.IsTrue(TensorAssert.Identical(expected, SeededNormal.Draw([7, 5], 123, CPU)), "DrawOnCpu changes nothing on the CPU"); }
        finally { SeededNormal.DrawOnCpu = false; }
        Assert.IsFalse(TensorAssert.Identical(expected, SeededNormal.Draw([7, 5], 124, CPU)), "another seed, other numbers");
    }
}
