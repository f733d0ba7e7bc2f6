using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Tests.Optimizers;

/// <summary>The range finder, the zeroth-order estimate, the side branch, state sizes, bad options, NaN steps, checkpoints.</summary>
[TestClass]
public sealed class LorenzaBehaviourTests
{
    // ---- range finder ----

    private static double SubspaceError(Tensor p, Tensor u)
    {
        // sin of the largest principal angle between span(P) and span(U), both orthonormal.
        using var scope = torch.NewDisposeScope();
        var residual = u - torch.matmul(p, torch.matmul(p.t(), u));
        return torch.linalg.svd(residual, false).S.max().item<double>();
    }

    [TestMethod]
    public void RangeFinderRecoversAnExactlyLowRankColumnSpace()
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(1);
        var left = torch.linalg.qr(torch.randn([60, 5], ScalarType.Float64, generator: g)).Q;
        var matrix = torch.matmul(left * torch.tensor(new double[] { 9, 7, 5, 3, 1 }), torch.randn([5, 90], ScalarType.Float64, generator: g));
        var p = SubspaceProjector.RangeFinderBasis(matrix, 5, 0, 0, seed: 11);
        Assert.IsTrue(SubspaceError(p, left) < 1e-4, $"principal-angle error {SubspaceError(p, left)}");
        Assert.IsTrue(torch.matmul(p.t(), p).allclose(torch.eye(5, dtype: ScalarType.Float64), 0, 1e-10), "P is orthonormal");
        // Columns ordered by singular value: ‖Gᵀp_k‖ decreases.
        var strengths = torch.linalg.vector_norm(torch.matmul(p.t(), matrix), dims: [1]).ToArray<double>();
        for (var k = 1; k < strengths.Length; k++) Assert.IsTrue(strengths[k - 1] >= strengths[k], "ordered by singular value");
    }

    [TestMethod]
    public void PowerIterationsApproachTheTopSvdSubspaceOfANoisyMatrix()
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(2);
        var u = torch.linalg.qr(torch.randn([80, 8], ScalarType.Float64, generator: g)).Q;
        var signal = torch.matmul(u * torch.tensor(new double[] { 40, 36, 32, 28, 24, 20, 16, 12 }), torch.linalg.qr(torch.randn([120, 8], ScalarType.Float64, generator: g)).Q.t());
        var noisy = signal + torch.randn([80, 120], ScalarType.Float64, generator: g) * 0.3;
        var top = SubspaceProjector.SvdBasis(noisy, 8);
        var errors = new[] { 0, 1, 3 }.Select(k => SubspaceError(SubspaceProjector.RangeFinderBasis(noisy, 8, 0, k, seed: 4), top)).ToArray();
        Assert.IsTrue(errors[1] < errors[0] && errors[2] < errors[1], $"errors by power iterations 0/1/3: {string.Join(", ", errors)}");
        Assert.IsTrue(errors[2] < 0.05, $"3 power iterations: {string.Join(", ", errors)}");
    }

    // ---- zeroth-order estimate ----

    private static (OptimizerTestProblem problem, AdamFamilyOptimizer optimizer) Prepared(int rank = 4)
    {
        var problem = new OptimizerTestProblem();
        var options = new OptimizerOptions { LearningRate = 1e-3, Rank = rank, Rho = 0.05, RefreshInterval = 1000, Seed = 11 };
        var optimizer = (AdamFamilyOptimizer)OptimizerFactory.Create("lorenza", problem.Parameters(), options, new ConstantSchedule(1e-3));
        optimizer.Step(problem.Closure); // step 0 builds the bases
        return (problem, optimizer);
    }

    private static List<Tensor?> TrueProjectedGradient(OptimizerTestProblem problem, AdamFamilyOptimizer optimizer)
    {
        var state = new Dictionary<string, Tensor>();
        optimizer.SaveState(state);
        problem.zero_grad();
        problem.Closure(LossMode.Train);
        var result = new List<Tensor?>();
        foreach (var (name, w) in problem.named_parameters())
        {
            if (!state.TryGetValue($"optimizer.{name}.basis", out var p)) { result.Add(null); continue; }
            result.Add(w.size(0) > w.size(1) ? torch.matmul(w.grad!, p) : torch.matmul(p.t(), w.grad!));
        }
        problem.zero_grad();
        foreach (var t in state.Values) t.Dispose();
        return result;
    }

    private static double Dot(IReadOnlyList<Tensor?> a, IReadOnlyList<Tensor?> b) =>
        a.Zip(b).Where(p => p.First is not null).Sum(p => (p.First! * p.Second!).sum(ScalarType.Float64).item<double>());

    [TestMethod]
    public void ZerothOrderEstimateIsUnbiasedWithTheExpectedSingleProbeCosine()
    {
        var (problem, optimizer) = Prepared();
        using var _ = problem;
        using var __ = optimizer;
        using var scope = torch.NewDisposeScope();
        var truth = TrueProjectedGradient(problem, optimizer);
        var dimension = truth.Where(t => t is not null).Sum(t => t!.numel());
        var truthNorm2 = Dot(truth, truth);
        var weightsBefore = problem.Weights();

        const int probes = 2000;
        var sum = truth.Select(t => t is null ? null : torch.zeros_like(t)).ToList();
        double cosineSum = 0;
        for (var i = 0; i < probes; i++)
        {
            using var inner = torch.NewDisposeScope();
            var estimate = optimizer.ZerothOrderEstimate(problem.Closure)!;
            for (var l = 0; l < sum.Count; l++) sum[l]?.add_(estimate[l]!);
            cosineSum += Dot(estimate, truth) / Math.Sqrt(Dot(estimate, estimate) * truthNorm2);
        }
        CollectionAssert.AreEqual(weightsBefore, problem.Weights(), "probes never write the weights");
        var bias = Dot(sum, truth) / probes / truthNorm2;
        Assert.AreEqual(1.0, bias, 0.1, "⟨mean estimate, g⟩/‖g‖²");
        var expectedCosine = Math.Sqrt(2.0 / (Math.PI * dimension));
        var cosine = cosineSum / probes;
        Assert.AreEqual(expectedCosine, cosine, 0.2 * expectedCosine, $"single-probe cosine with d = {dimension}");
    }

    [TestMethod]
    public void PerturbationAlongTheEstimateRaisesTheLossMoreThanItsMirror()
    {
        var (problem, optimizer) = Prepared();
        using var _ = problem;
        using var __ = optimizer;
        var state = new Dictionary<string, Tensor>();
        optimizer.SaveState(state);
        var managed = problem.Parameters().Where(p => p.Managed).ToList();
        var raised = 0;
        const int seeds = 200;
        for (var i = 0; i < seeds; i++)
        {
            using var scope = torch.NewDisposeScope();
            var estimate = optimizer.ZerothOrderEstimate(problem.Closure)!.Where(e => e is not null).ToList();
            var norm = Math.Sqrt(estimate.Sum(e => (e! * e!).sum(ScalarType.Float64).item<double>()));
            double LossAt(double sign)
            {
                for (var l = 0; l < managed.Count; l++)
                {
                    var p = state[$"optimizer.{managed[l].Name}.basis"];
                    var right = managed[l].Tensor.size(0) > managed[l].Tensor.size(1);
                    managed[l].Layer!.Delta = right ? new LowRankDelta(estimate[l]!, p.t(), sign * 0.05 / norm) : new LowRankDelta(p, estimate[l]!, sign * 0.05 / norm);
                }
                var loss = problem.Closure(LossMode.Eval);
                foreach (var m in managed) m.Layer!.Delta = null;
                return loss;
            }
            if (LossAt(+1) > LossAt(-1)) raised++;
        }
        foreach (var t in state.Values) t.Dispose();
        Assert.IsTrue(raised >= 0.95 * seeds, $"{raised} of {seeds} seeds");
    }

    // ---- side branch ----

    [TestMethod]
    [DataRow(5, false, DisplayName = "5 rows: the side branch")]
    [DataRow(40, true, DisplayName = "40 rows: W + ΔW formed (7×12 ≤ 40 × 3)")]
    [DataRow(-8, false, DisplayName = "[2, 4, 12] input: the side branch")]
    public void SideBranchEqualsTheWeightPerturbedInPlaceAndGivesItsGradient(int rows, bool formsTheSum)
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(3);
        using var layer = new SideBranchLinear(12, 7);
        using (torch.no_grad()) { layer.weight.normal_(0, 0.3, g); layer.bias!.normal_(0, 0.1, g); }
        var x = rows > 0 ? torch.randn([rows, 12], generator: g) : torch.randn([2, -rows / 2, 12], generator: g);
        var left = torch.linalg.qr(torch.randn([7, 3], generator: g)).Q;
        var right = torch.randn([3, 12], generator: g);
        const double scale = 0.07;
        var before = layer.weight.ToArray<float>();

        layer.Delta = new LowRankDelta(left, right, scale);
        Assert.AreEqual(formsTheSum, layer.FormsTheSum(layer.Delta, x.numel() / 12, ScalarType.Float32));
        var branch = layer.forward(x);
        branch.pow(2).sum().backward();
        var branchGrad = layer.weight.grad!.clone();
        var biasGrad = layer.bias!.grad!.clone();
        layer.Delta = null;
        layer.zero_grad();
        CollectionAssert.AreEqual(before, layer.weight.ToArray<float>(), "W untouched");

        var perturbed = (layer.weight.detach() + torch.matmul(left, right) * scale).requires_grad_();
        var bias = layer.bias.detach().clone().requires_grad_();
        var direct = torch.nn.functional.linear(x, perturbed, bias);
        direct.pow(2).sum().backward();
        CollectionAssert.AreEqual(direct.shape, branch.shape);
        Assert.IsTrue(branch.allclose(direct, 1e-5, 1e-6), "forward within f32 rounding");
        Assert.IsTrue(branchGrad.allclose(perturbed.grad!, 1e-4, 1e-5), "∇W at θ + e");
        Assert.IsTrue(biasGrad.allclose(bias.grad!, 1e-4, 1e-5), "∇b at θ + e");
    }

    [TestMethod]
    public void APerturbationIsTakenOffOnEveryWayOut_AndDoesNotOverwriteAnotherChange()
    {
        using var scope = torch.NewDisposeScope();
        using var first = new SideBranchLinear(4, 3);
        using var second = new SideBranchLinear(4, 3);
        var delta = new LowRankDelta(torch.ones(3, 1), torch.ones(1, 4), 0.1);
        Assert.ThrowsExactly<InvalidOperationException>(() =>
        {
            using var perturbation = new Perturbation();
            perturbation.Set(first, delta);
            perturbation.Set(first, delta with { Scale = -0.1 }); // the same scope may move its own layer again
            perturbation.Set(second, delta);
            Assert.AreEqual(-0.1, first.Delta!.Scale);
            throw new InvalidOperationException("a probe failed");
        });
        Assert.IsNull(first.Delta, "taken off when the block threw");
        Assert.IsNull(second.Delta);

        first.Delta = delta; // e.g. LoRA's adapters
        using var other = new Perturbation();
        Assert.ThrowsExactly<InvalidOperationException>(() => other.Set(first, delta with { Scale = 0.5 }));
        Assert.AreSame(delta, first.Delta, "left as it was");
    }

    // ---- state sizes ----

    [TestMethod]
    public void StateBytesAreExactlyTheLowRankFormula()
    {
        const int r = 4;
        long Bytes(string name)
        {
            using var problem = new OptimizerTestProblem();
            using var optimizer = OptimizerFactory.Create(name, problem.Parameters(), new OptimizerOptions { Rank = r, Rho = 0.05 }, new ConstantSchedule(1e-3));
            optimizer.Step(problem.Closure);
            return optimizer.StateBytes;
        }
        // first: 24×16 (m > n: right basis n×r, moments m×r); second: 8×24 (left basis m×r, moments r×n); bias 8.
        long lowRank = (16 * r + 2 * 24 * r) + (8 * r + 2 * r * 24) + 2 * 8;
        long full = 2 * (24 * 16) + 2 * (8 * 24) + 2 * 8;
        Assert.AreEqual(4 * lowRank, Bytes("lorenza"));
        Assert.AreEqual(4 * lowRank, Bytes("galore"));
        Assert.AreEqual(4 * full, Bytes("adamw"));
        Assert.AreEqual(4 * full, Bytes("adazosam"));
    }

    // ---- bad options and bad steps ----

    [TestMethod]
    public void InvalidOptionsNameTheOptionAndTheRange()
    {
        using var problem = new OptimizerTestProblem();
        void Expect(Action<OptimizerOptions> change, string option)
        {
            var options = new OptimizerOptions();
            change(options);
            var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => OptimizerFactory.Create("lorenza", problem.Parameters(), options, new ConstantSchedule(1e-3)));
            StringAssert.Contains(e.Message, option);
            StringAssert.Contains(e.Message, "must be");
        }
        Expect(o => o.Rank = 0, "Rank");
        Expect(o => o.Rank = 9, "min(m, n) = 8");
        Expect(o => o.Rho = -0.1, "Rho");
        Expect(o => o.ZoSmoothing = 0, "ZoSmoothing");
        Expect(o => o.ZoQueries = 0, "ZoQueries");
        Expect(o => o.RefreshInterval = 0, "RefreshInterval");
        Expect(o => o.AscentDirection = (AscentDirection)7, "AscentDirection");
        Expect(o => o.Beta2 = 1, "Beta2");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => OptimizerFactory.Create("lion", problem.Parameters(), new OptimizerOptions(), new ConstantSchedule(1e-3))).Message, "lorenza, adazosam");
    }

    [TestMethod]
    public void NonFiniteProbeOrGradientSkipsTheStepAndTrainingGoesOn()
    {
        using var problem = new OptimizerTestProblem();
        using var optimizer = OptimizerFactory.Create("lorenza", problem.Parameters(), new OptimizerOptions { Rank = 4, LearningRate = 1e-2 }, new ConstantSchedule(1e-2));
        optimizer.Step(problem.Closure);
        var before = problem.Weights();
        var result = optimizer.Step((mode, _) => mode == LossMode.Eval ? double.NaN : problem.Closure(mode));
        Assert.IsTrue(result.Skipped);
        CollectionAssert.AreEqual(before, problem.Weights(), "a skipped step changes nothing");
        result = optimizer.Step((mode, _) =>
        {
            if (mode == LossMode.Eval) return problem.Closure(mode);
            using var loss = problem.Loss() * double.PositiveInfinity;
            loss.backward();
            return loss.item<float>();
        });
        Assert.IsTrue(result.Skipped);
        Assert.AreEqual(2, optimizer.SkippedSteps);
        Assert.IsFalse(optimizer.Step(problem.Closure).Skipped, "training goes on");
        CollectionAssert.AreNotEqual(before, problem.Weights());
    }

    [TestMethod]
    public void SavedStateResumesBitIdentically()
    {
        var options = new OptimizerOptions { Rank = 4, LearningRate = 1e-2, RefreshInterval = 3, Rho = 0.05, Seed = 5 };
        var (straight, resumed) = OptimizerChecks.StraightAndResumed("lorenza", options);
        CollectionAssert.AreEqual(straight, resumed);
    }

    [TestMethod]
    public void EveryOptimizerReducesTheLoss()
    {
        foreach (var name in OptimizerFactory.Names)
            foreach (var ascent in new[] { AscentDirection.ZerothOrder, AscentDirection.Momentum })
            {
                using var problem = new OptimizerTestProblem();
                var options = new OptimizerOptions { Rank = 4, LearningRate = 2e-2, RefreshInterval = 10, Rho = 0.05, AscentDirection = ascent };
                using var optimizer = OptimizerFactory.Create(name, problem.Parameters(), options, new ConstantSchedule(2e-2));
                var first = problem.Closure(LossMode.Eval);
                for (var i = 0; i < 40; i++) optimizer.Step(problem.Closure);
                var last = problem.Closure(LossMode.Eval);
                Assert.IsTrue(last < 0.8 * first, $"{name}/{ascent}: loss {first} → {last}");
                if (name is "lorenza" or "adazosam") Assert.IsTrue(optimizer.LastDiagnostics.ContainsKey("ascent_alignment"), $"{name} reports its ascent alignment");
            }
    }
}
