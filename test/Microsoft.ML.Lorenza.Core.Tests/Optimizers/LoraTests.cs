using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Tests.Optimizers;

/// <summary>The LoRA baseline: frozen weights, a side branch that starts at zero, AdamW on the adapters, folding at the end.</summary>
[TestClass]
public sealed class LoraTests
{
    private static OptimizerOptions Options(int rank = 4) => new() { LearningRate = 2e-2, WeightDecay = 0.01, Rank = rank, Scale = 0.5, Seed = 3 };

    private static IOptimizer Create(OptimizerTestProblem problem, OptimizerOptions options) =>
        OptimizerFactory.Create("lora", problem.Parameters(), options, new ConstantSchedule(options.LearningRate!.Value));

    [TestMethod]
    public void MatchesPeftStyleLoraUnderTorchOptimAdamW()
    {
        using var problem = new SmallRegression();
        var model = problem.Model;
        var options = new OptimizerOptions { LearningRate = 0.05, Beta1 = 0.85, Beta2 = 0.99, Epsilon = 1e-8, WeightDecay = 0.1, Rank = 2, Scale = 2, Seed = 9 };
        var parameters = new[] { new OptimizedParameter("weight", model.weight, model, true), new OptimizedParameter("bias", model.bias!, null, false) };
        using var optimizer = OptimizerFactory.Create("lora", parameters, options, new ConstantSchedule(options.LearningRate!.Value));
        var initial = new Dictionary<string, Tensor>();
        optimizer.SaveState(initial);
        var a0 = initial["optimizer.weight.lora_A"].ToArray<float>();
        Assert.IsTrue(initial["optimizer.weight.lora_B"].ToArray<float>().All(v => v == 0), "B starts at zero");
        Assert.IsTrue(a0.All(v => Math.Abs(v) <= 1 / Math.Sqrt(6)) && a0.Distinct().Count() == a0.Length, "A is drawn from U(±1/√n)");
        foreach (var t in initial.Values) t.Dispose();

        double firstLoss = double.NaN;
        for (var i = 0; i < 20; i++)
        {
            var loss = optimizer.Step(problem.Closure).Loss;
            if (i == 0) firstLoss = loss;
        }
        CollectionAssert.AreEqual(problem.InitialWeight, model.weight.ToArray<float>(), "W is frozen while the adapters train");
        ((LoraOptimizer)optimizer).Finish();

        using var reply = PythonReference.RunScript("lora_reference.py", problem.Request(new()
        {
            ["a"] = a0, ["rank"] = 2, ["scale"] = 2.0, ["lr"] = 0.05, ["betas"] = new[] { 0.85, 0.99 }, ["eps"] = 1e-8, ["weight_decay"] = 0.1, ["steps"] = 20,
        }));
        Assert.AreEqual(reply.RootElement.GetProperty("loss0").GetDouble(), firstLoss, 1e-6, "the first loss is the base model's: B = 0");
        var theirs = reply.RootElement.GetProperty("w").EnumerateArray().Concat(reply.RootElement.GetProperty("b").EnumerateArray()).Select(v => v.GetDouble()).ToArray();
        var ours = problem.Parameters();
        Assert.AreEqual(theirs.Length, ours.Length);
        // float32, 20 Adam steps, branch evaluated as (x·Aᵀ)·Bᵀ here and the same in the script: 1e-5 relative.
        for (var k = 0; k < theirs.Length; k++)
            Assert.AreEqual(theirs[k], ours[k], 1e-5 * Math.Max(1, Math.Abs(theirs[k])), $"folded parameter element {k}");
        Assert.IsTrue(theirs.Take(24).Zip(problem.InitialWeight).Any(p => Math.Abs(p.First - p.Second) > 1e-3), "the adapters moved W by more than the tolerance");
    }

    [TestMethod]
    public void FoldingGivesTheSameModelAsTheSideBranchAndRemovesIt()
    {
        using var problem = new OptimizerTestProblem();
        float[] ManagedWeights()
        {
            using var scope = torch.NewDisposeScope();
            return problem.first.weight.detach().ToArray<float>().Concat(problem.second.weight.detach().ToArray<float>()).ToArray();
        }
        var before = ManagedWeights();
        var optimizer = (LoraOptimizer)Create(problem, Options());
        var first = problem.Closure(LossMode.Eval);
        for (var i = 0; i < 30; i++) optimizer.Step(problem.Closure);
        var withBranch = problem.Closure(LossMode.Eval);
        CollectionAssert.AreEqual(before, ManagedWeights(), "the managed weights are frozen until Finish");
        Assert.IsTrue(withBranch < 0.8 * first, $"loss {first} → {withBranch}");

        optimizer.Dispose(); // folds
        Assert.IsNull(problem.first.Delta);
        Assert.IsNull(problem.second.Delta);
        Assert.IsTrue(problem.first.weight.requires_grad && problem.second.weight.requires_grad, "the weights are trainable again");
        var folded = problem.Closure(LossMode.Eval);
        Assert.AreEqual(withBranch, folded, 1e-6 * Math.Max(1, withBranch), "W + s·B·A computes what the branch computed");
        CollectionAssert.AreNotEqual(before, ManagedWeights(), "folding wrote the learned change into W");
        Assert.ThrowsExactly<InvalidOperationException>(() => optimizer.Step(problem.Closure));
    }

    [TestMethod]
    public void StateBytesAreTheAdaptersAndTheirMoments()
    {
        const int r = 4;
        using var problem = new OptimizerTestProblem();
        using var optimizer = Create(problem, Options(r));
        optimizer.Step(problem.Closure);
        // first 24×16, second 8×24: A, B, and two AdamW moments of each = 3·r·(m + n); the bias 8 has two moments.
        long floats = 3 * r * (24 + 16) + 3 * r * (8 + 24) + 2 * 8;
        Assert.AreEqual(4 * floats, optimizer.StateBytes);
    }

    [TestMethod]
    public void SavedStateResumesBitIdentically()
    {
        var options = Options();
        // The resumed optimizer draws other adapters (seed 77): the loaded state must replace them.
        var resumeWith = new OptimizerOptions { LearningRate = options.LearningRate, WeightDecay = options.WeightDecay, Rank = options.Rank, Scale = options.Scale, Seed = 77 };
        var (straight, resumed) = OptimizerChecks.StraightAndResumed("lora", options, resumeWith);
        CollectionAssert.AreEqual(straight, resumed);
    }

    [TestMethod]
    public void BadRankAndForeignStateAreRefusedWithTheFix()
    {
        using var problem = new OptimizerTestProblem();
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Create(problem, Options(rank: 9)));
        StringAssert.Contains(e.Message, "min(m, n) = 8");
        // Rank 9 suits the first matrix (24×16) and not the second: the refusal must leave the first one as it was.
        Assert.IsNull(problem.first.Delta);
        Assert.IsTrue(problem.first.weight.requires_grad);
        using var optimizer = Create(problem, Options());
        var foreign = new Dictionary<string, Tensor>();
        var d = Assert.ThrowsExactly<InvalidDataException>(() => optimizer.LoadState(foreign));
        StringAssert.Contains(d.Message, "lora_A");
    }
}
