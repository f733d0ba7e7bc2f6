using Microsoft.ML.Lorenza.Configuration;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Runtime;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Tests.Optimizers;

/// <summary>
/// The batched low-rank update of same-shape matrices (<see cref="BatchedLowRankGroup"/>, for GPUs), forced on the CPU,
/// against the matrix-by-matrix update over refreshes and a checkpoint loaded mid-run. Batched products and reductions
/// may sum in another order, so the runs agree within a bound, not bit for bit.
/// </summary>
[TestClass]
public sealed class BatchedLowRankTests
{
    private const int Steps = 8;

    private static OptimizerOptions Options(bool momentum, bool reset, double? tolerance) => new()
    {
        LearningRate = 1e-2, WeightDecay = 0.01, Rho = 0.05, Rank = 4, RefreshInterval = 3, Seed = 3,
        AscentDirection = momentum ? AscentDirection.Momentum : AscentDirection.ZerothOrder, ResetMomentsOnRefresh = reset,
        RefreshTolerance = tolerance,
    };

    private sealed record Outcome(float[] Weights, Dictionary<string, float[]> State, List<IReadOnlyDictionary<string, double>> Diagnostics);

    private static Outcome Run(string optimizerName, OptimizerOptions options, bool batched, int resumeAt = -1)
    {
        BatchedLowRankGroup.ForceOnCpu = batched;
        try
        {
            using var problem = new SameShapeTestProblem();
            var optimizer = OptimizerFactory.Create(optimizerName, problem.Parameters(), options, new ConstantSchedule(1e-2));
            var diagnostics = new List<IReadOnlyDictionary<string, double>>();
            try
            {
                for (var step = 0; step < Steps; step++)
                {
                    if (step == resumeAt)
                    {
                        var saved = new Dictionary<string, Tensor>();
                        optimizer.SaveState(saved);
                        optimizer.Dispose();
                        optimizer = OptimizerFactory.Create(optimizerName, problem.Parameters(), options, new ConstantSchedule(1e-2));
                        optimizer.LoadState(saved);
                        foreach (var t in saved.Values) t.Dispose();
                    }
                    optimizer.Step(problem.Closure);
                    diagnostics.Add(new Dictionary<string, double>(optimizer.LastDiagnostics));
                }
                var state = new Dictionary<string, Tensor>();
                optimizer.SaveState(state);
                var arrays = state.ToDictionary(kv => kv.Key, kv => kv.Value.to(ScalarType.Float32).ToArray<float>());
                foreach (var t in state.Values) t.Dispose();
                return new Outcome(problem.Weights(), arrays, diagnostics);
            }
            finally
            {
                optimizer.Dispose();
            }
        }
        finally
        {
            BatchedLowRankGroup.ForceOnCpu = false;
        }
    }

    /// <summary>max |a − b| / max |a|.</summary>
    private static double Relative(float[] a, float[] b)
    {
        Assert.AreEqual(a.Length, b.Length);
        double difference = 0, scale = 0;
        for (var i = 0; i < a.Length; i++) (difference, scale) = (Math.Max(difference, Math.Abs(a[i] - b[i])), Math.Max(scale, Math.Abs(a[i])));
        return scale == 0 ? difference : difference / scale;
    }

    // Measured here (8 steps, max |a − b| / max |a|): weights 1.4e-7 (GaLore, LORENZA), 2.3e-6 (LORENZA with the momentum
    // ascent and moments reset at refreshes); moments and bases up to 7.7e-6 (a basis is the SVD or range finder of a
    // slightly different gradient); loss, gradient norm, alignment and captured fractions up to 1.6e-6 apart. zo_c and
    // ascent_norm (∝ |c|) divide a difference of two float32 losses by 2μ: up to 1.3e-4.
    private const double WeightBound = 1e-5, StateBound = 1e-4, DiagnosticBound = 1e-5, ProbeBound = 1e-3;

    [TestMethod]
    [DataRow("galore", false, false, null)]
    [DataRow("lorenza", false, false, null)]
    [DataRow("lorenza", true, true, null)]
    // Early refreshes: at step 3 up2 is refreshed and up1, of the same group, is not (every captured fraction is 7e-4 or
    // more from the tolerance, so the two runs take the same decisions).
    [DataRow("lorenza", false, false, 0.993)]
    public void TheBatchedLowRankUpdateEqualsTheMatrixByMatrixOne(string optimizer, bool momentumAscent, bool resetMoments, double? refreshTolerance)
    {
        var options = Options(momentumAscent, resetMoments, refreshTolerance);
        var taken = BatchedLowRankGroup.StepsTaken;
        var perMatrix = Run(optimizer, options, batched: false);
        Assert.AreEqual(taken, BatchedLowRankGroup.StepsTaken, "not on the CPU unless forced");
        var batched = Run(optimizer, options, batched: true);
        Assert.AreEqual(taken + 2 * Steps, BatchedLowRankGroup.StepsTaken, "both groups (24×16 and 16×24) took every step batched");

        var weights = Relative(perMatrix.Weights, batched.Weights);
        CollectionAssert.AreEquivalent(perMatrix.State.Keys, batched.State.Keys);
        var state = perMatrix.State.Max(kv => (Difference: Relative(kv.Value, batched.State[kv.Key]), kv.Key));
        Console.WriteLine($"{optimizer}: weights {weights:E1} apart, optimizer state {state.Difference:E1} ({state.Key})");
        Assert.IsTrue(weights <= WeightBound, $"weights {weights:E1} apart");
        Assert.IsTrue(state.Difference <= StateBound, $"{state.Key}: {state.Difference:E1} apart");
        for (var step = 0; step < Steps; step++)
        {
            var (expected, actual) = (perMatrix.Diagnostics[step], batched.Diagnostics[step]);
            CollectionAssert.AreEquivalent(expected.Keys.ToList(), actual.Keys.ToList(), $"step {step}");
            foreach (var (key, value) in expected)
            {
                var difference = Math.Abs(value - actual[key]) / Math.Max(Math.Abs(value), 1e-12);
                var bound = key.StartsWith("zo_c", StringComparison.Ordinal) || key == "ascent_norm" ? ProbeBound : DiagnosticBound;
                Assert.IsTrue(difference <= bound, $"step {step}, {key}: {value} and {actual[key]}, {difference:E1} apart");
            }
        }

        // A checkpoint's state loaded into a new optimizer mid-run: the stacked moments and bases are rebuilt from it.
        var resumed = Run(optimizer, options, batched: true, resumeAt: 4);
        CollectionAssert.AreEqual(batched.Weights, resumed.Weights, "resumed from a checkpoint: the uninterrupted batched run's weights");
        foreach (var (key, values) in batched.State) CollectionAssert.AreEqual(values, resumed.State[key], key);
    }
}
