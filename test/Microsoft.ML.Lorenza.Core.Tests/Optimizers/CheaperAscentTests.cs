using Microsoft.ML.Lorenza.Runtime;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Tests.Optimizers;

/// <summary>
/// The options that make LORENZA cost what GaLore costs: probes on part of the batch and the word embedding's
/// treatment (full, low-rank, frozen), each checked against what it must equal.
/// </summary>
[TestClass]
public sealed class CheaperAscentTests
{
    private const int Vocabulary = 300, Batch = 8, Length = 16;

    private sealed class TinyTask : IDisposable
    {
        private readonly DisposeScope scope = torch.NewDisposeScope();

        public TinyTask(ulong seed = 11)
        {
            Model = RobertaForSequenceClassification.Create(RobertaConfig.Tiny(Vocabulary, 2), seed);
            using var g = new Generator(5);
            Ids = torch.randint(3, Vocabulary, [Batch, Length], ScalarType.Int64, generator: g);
            Mask = torch.ones([Batch, Length], ScalarType.Int64);
            Labels = torch.randint(0, 2, [Batch], ScalarType.Int64, generator: g);
        }

        public SequenceClassifier Model { get; }
        public Tensor Ids { get; }
        public Tensor Mask { get; }
        public Tensor Labels { get; }
        public LossClosure Closure => ClassifierLoss.Closure(Model, Ids, Mask, Labels);
        public Tensor WordEmbedding => Model.Embeddings.word_embeddings.weight!;

        public void Dispose()
        {
            Model.Dispose();
            scope.Dispose();
        }
    }

    [TestMethod]
    public void AProbeOnAFractionOfTheBatchIsTheLossOfItsFirstRows()
    {
        using var task = new TinyTask();
        var quarter = task.Closure(LossMode.Eval, 0.25);
        var firstTwo = ClassifierLoss.Closure(task.Model, task.Ids.narrow(0, 0, 2), task.Mask.narrow(0, 0, 2), task.Labels.narrow(0, 0, 2))(LossMode.Eval);
        Assert.AreEqual(firstTwo, quarter, 0, "⌈0.25 · 8⌉ = 2 rows");
        Assert.AreNotEqual(task.Closure(LossMode.Eval), quarter, "the whole batch differs");
        Assert.AreEqual(3, ClassifierLoss.ProbeRows(8, 0.3), "⌈2.4⌉");
        Assert.AreEqual(1, ClassifierLoss.ProbeRows(8, 1e-6), "at least one row");
        Assert.AreEqual(8, ClassifierLoss.ProbeRows(8, 1));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => task.Closure(LossMode.Eval, 0));
    }

    [TestMethod]
    public void LorenzaAsksForItsProbeFractionAndTrainsOnTheWholeBatch()
    {
        using var task = new TinyTask();
        var asked = new List<(LossMode Mode, double Fraction)>();
        var closure = task.Closure;
        using var optimizer = OptimizerFactory.Create("lorenza", ManagedParameterRule.Architecture.Apply(task.Model),
            new OptimizerOptions { Rank = 4, ProbeBatchFraction = 0.5 }, new ConstantSchedule(1e-3));
        for (var i = 0; i < 3; i++)
            optimizer.Step((mode, fraction) =>
            {
                asked.Add((mode, fraction));
                return closure(mode, fraction);
            });
        var probes = asked.Where(a => a.Mode == LossMode.Eval).ToList();
        Assert.AreEqual(4, probes.Count, "two probes in each of the steps after the first (the first has no subspace yet)");
        Assert.IsTrue(probes.All(p => p.Fraction == 0.5));
        Assert.IsTrue(asked.Where(a => a.Mode == LossMode.Train).All(a => a.Fraction == 1));
        Assert.AreEqual(0.125, new OptimizerOptions().ProbeBatchFraction, "the default docs/benchmarks.md's measurement chose");
    }

    [TestMethod]
    public void ALowRankEmbeddingKeepsVocabularyTimesRankMomentsAndMovesOnlyInItsSubspace()
    {
        using var task = new TinyTask();
        const int rank = 4;
        using var lowRank = OptimizerFactory.Create("lorenza", ManagedParameterRule.Architecture.Apply(task.Model),
            new OptimizerOptions { Rank = rank, LearningRate = 1e-2 }, new ConstantSchedule(1e-2));
        var before = task.WordEmbedding.detach().clone();
        lowRank.Step(task.Closure);
        using var delta = task.WordEmbedding.detach() - before;
        Assert.IsTrue(delta.abs().max().item<float>() > 0, "the embedding is trained");
        // 300×64: more rows than columns, so a right basis P (64×r): the update N·Pᵀ has its rows in P's column span.
        var saved = new Dictionary<string, Tensor>();
        lowRank.SaveState(saved);
        var name = "roberta.embeddings.word_embeddings.weight";
        var basis = saved[$"optimizer.{name}.basis"];
        CollectionAssert.AreEqual(new long[] { 64, rank }, basis.shape);
        CollectionAssert.AreEqual(new long[] { Vocabulary, rank }, saved[$"optimizer.{name}.exp_avg"].shape);
        using var outside = delta - torch.matmul(torch.matmul(delta, basis), basis.t());
        Assert.IsTrue(outside.abs().max().item<float>() < 1e-6 * Math.Max(1, delta.abs().max().item<float>()) + 1e-8,
            $"update outside the subspace: {outside.abs().max().item<float>():E2}");

        using var fullTask = new TinyTask();
        using var full = OptimizerFactory.Create("lorenza", ManagedParameterRule.Architecture.Apply(fullTask.Model),
            new OptimizerOptions { Rank = rank, WordEmbeddings = WordEmbeddingTreatment.Full }, new ConstantSchedule(1e-2));
        full.Step(fullTask.Closure);
        var embeddingFull = 2L * Vocabulary * 64;
        var embeddingLowRank = 2L * Vocabulary * rank + 64L * rank;
        Assert.AreEqual(4 * (embeddingFull - embeddingLowRank), full.StateBytes - lowRank.StateBytes, "state bytes exact");
        foreach (var t in saved.Values) t.Dispose();
    }

    [TestMethod]
    public void AFrozenEmbeddingGetsNoGradientNoStateAndIsUnfrozenAfterwards()
    {
        using var task = new TinyTask();
        var before = task.WordEmbedding.detach().clone();
        var parameters = ManagedParameterRule.Architecture.Apply(task.Model);
        Assert.AreEqual(1, parameters.Count(p => p.WordEmbedding), "the rule marks the word embedding");
        long stateBytes;
        using (var optimizer = OptimizerFactory.Create("lorenza", parameters, new OptimizerOptions { Rank = 4, WordEmbeddings = WordEmbeddingTreatment.Frozen }, new ConstantSchedule(1e-2)))
        {
            Assert.IsFalse(task.WordEmbedding.requires_grad);
            for (var i = 0; i < 3; i++) optimizer.Step(task.Closure);
            Assert.IsTrue(task.WordEmbedding.grad is null);
            stateBytes = optimizer.StateBytes;
        }
        Assert.IsTrue(task.WordEmbedding.requires_grad, "Dispose unfreezes it");
        CollectionAssert.AreEqual(before.ToArray<float>(), task.WordEmbedding.detach().ToArray<float>(), "bit-for-bit unchanged");

        using var other = new TinyTask();
        using var lowRank = OptimizerFactory.Create("lorenza", ManagedParameterRule.Architecture.Apply(other.Model), new OptimizerOptions { Rank = 4 }, new ConstantSchedule(1e-2));
        lowRank.Step(other.Closure);
        Assert.AreEqual(4 * (2L * Vocabulary * 4 + 64 * 4), lowRank.StateBytes - stateBytes, "the frozen embedding holds no state");
    }

    [TestMethod]
    public void Finish_LeavesNothingOfTheOptimizerOnTheModel_AndRefusesMoreSteps()
    {
        foreach (var name in OptimizerFactory.Names)
        {
            using var task = new TinyTask();
            var parameters = ManagedParameterRule.Architecture.Apply(task.Model);
            var layers = ModuleTree.DepthFirst(task.Model).Select(m => m.Module).OfType<SideBranchLinear>().ToList();
            using var optimizer = OptimizerFactory.Create(name, parameters, new OptimizerOptions { Rank = 4, WordEmbeddings = WordEmbeddingTreatment.Frozen }, new ConstantSchedule(1e-2));
            for (var i = 0; i < 2; i++) optimizer.Step(task.Closure);
            if (name == "lora") Assert.IsTrue(layers.Any(l => l.Delta is not null), "LoRA trains through the side branches");
            Tensor Logits()
            {
                task.Model.eval(); // no dropout
                using var noGrad = torch.no_grad();
                using var output = task.Model.forward(task.Ids, task.Mask);
                return output.Logits.clone();
            }
            var outputBefore = Logits();
            optimizer.Finish();
            Assert.IsTrue(layers.All(l => l.Delta is null), $"{name}: a side branch left set");
            Assert.IsTrue(parameters.All(p => p.Tensor.requires_grad), $"{name}: a parameter left frozen");
            // LoRA's fold changes how the model computes, not what: the same logits before and after.
            Assert.IsTrue(Logits().allclose(outputBefore, 1e-4, 1e-5), $"{name}: the model's output moved");
            Assert.ThrowsExactly<InvalidOperationException>(() => optimizer.Step(task.Closure), name);
        }
    }

    [TestMethod]
    public void ALowRankEmbeddingNeedsAProjectedOptimizerAndIsRefusedBeforeAnythingChanges()
    {
        foreach (var name in new[] { "adamw", "sam", "adazosam", "lora" })
        {
            using var task = new TinyTask();
            var parameters = ManagedParameterRule.Architecture.Apply(task.Model);
            var error = Assert.ThrowsExactly<ArgumentException>(() =>
                OptimizerFactory.Create(name, parameters, new OptimizerOptions { WordEmbeddings = WordEmbeddingTreatment.LowRank }, new ConstantSchedule(1e-3)));
            StringAssert.Contains(error.Message, $"WordEmbeddings = LowRank needs a projected optimizer (lorenza or galore), not {name}");
            Assert.IsTrue(parameters.All(p => p.Tensor.requires_grad), $"{name}: nothing frozen by a refused optimizer");
        }
        Assert.AreEqual(WordEmbeddingTreatment.LowRank, OptimizerOptions.DefaultWordEmbeddings("lorenza"));
        Assert.AreEqual(WordEmbeddingTreatment.Full, OptimizerOptions.DefaultWordEmbeddings("galore"), "GaLore as published");
        Assert.AreEqual(WordEmbeddingTreatment.Full, OptimizerOptions.DefaultWordEmbeddings("adamw"));
    }

    [TestMethod]
    public void TheSlicedBackProjectionEqualsTheWholeProduct()
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(2);
        foreach (var (m, n, right) in new[] { (5000, 1000, true), (1000, 5000, false) })
        {
            Assert.IsTrue((long)m * n > SubspaceProjector.BackProjectionSlice, "large enough to be sliced");
            var w = torch.randn([m, n], generator: g);
            var basis = torch.linalg.qr(torch.randn([right ? n : m, 8], generator: g)).Q;
            var normalized = right ? torch.randn([m, 8], generator: g) : torch.randn([8, n], generator: g);
            using var step = (-0.01).ToScalar();
            var expected = w.add(right ? torch.matmul(normalized, basis.t()) : torch.matmul(basis, normalized), step);
            SubspaceProjector.AddBackProjected(w, normalized, basis, right, step);
            var difference = (w - expected).abs().max().item<float>();
            Assert.IsTrue(difference < 1e-6, $"{m}×{n}: {difference:E2}");
        }
    }
}
