using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Runtime;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Microsoft.ML.Lorenza.Datasets;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Tests.Training;

[TestClass]
public sealed class DataAndMetricsTests
{
    [TestMethod]
    public void MetricsMatchHandWorkedValues()
    {
        // truth:      A A B B C      predictions (argmax): A B B B A
        int[] truth = [0, 0, 1, 1, 2];
        float[][] p = [[0.7f, 0.2f, 0.1f], [0.3f, 0.6f, 0.1f], [0.1f, 0.8f, 0.1f], [0.2f, 0.5f, 0.3f], [0.5f, 0.3f, 0.2f]];
        var m = ClassificationMetrics.Compute(truth, p, ["A", "B", "C"]);
        Assert.AreEqual(0.6, m.Accuracy, 1e-12);
        // A: P 1/2 R 1/2 F1 1/2; B: P 2/3 R 1 F1 0.8; C: P 0 R 0 F1 0 → macro 1.3/3
        Assert.AreEqual(1.3 / 3, m.MacroF1, 1e-12);
        Assert.AreEqual(2.0 / 3, m.PerClass[1].Precision, 1e-12);
        var logLoss = -(Math.Log(0.7) + Math.Log(0.3) + Math.Log(0.8) + Math.Log(0.5) + Math.Log(0.2)) / 5;
        Assert.AreEqual(logLoss, m.LogLoss, 1e-6);
        CollectionAssert.AreEqual(new[] { 1, 1, 0 }, m.ConfusionMatrix[0]);
        CollectionAssert.AreEqual(new[] { 1, 0, 0 }, m.ConfusionMatrix[2]);
    }

    [TestMethod]
    public void EverySharedDataSetLoads()
    {
        var cases = new (string File, ColumnSpec Columns, int Classes)[]
        {
            ("sst2/train.tsv", new("sentence", "label"), 2),
            ("sst2/dev.tsv", new("sentence", "label"), 2),
            ("ag-news/train_subset.tsv", new("text", "label"), 4),
            ("rte/dev.tsv", new("sentence1", "label", "sentence2"), 2),
        };
        foreach (var (file, columns, classes) in cases)
        {
            var data = TextDataset.Load(SharedData.RequirePath("data", file), columns);
            Assert.IsTrue(data.Examples.Count > 200, $"{file}: {data.Examples.Count} examples");
            Assert.AreEqual(classes, LabelMap.FromTraining(data).Count, file);
            Assert.AreEqual(columns.TextPair is not null, data.HasPairs, file);
        }
    }

    [TestMethod]
    public void CsvQuotingAndBatchPlans()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "label,text\npos,\"great, really \"\"great\"\"\"\nneg,bad\n");
            var data = TextDataset.Load(file, new ColumnSpec("text", "label"));
            Assert.AreEqual("great, really \"great\"", data.Examples[0].Text);
        }
        finally
        {
            File.Delete(file);
        }
        var lengths = Enumerable.Range(0, 100).Select(i => i % 17 + 3).ToArray();
        var plan = DataPlan.BatchPlan(lengths, 8, seed: 1, epoch: 2);
        CollectionAssert.AreEquivalent(Enumerable.Range(0, 100).ToArray(), plan.SelectMany(b => b).ToArray(), "every example once");
        Assert.IsTrue(plan.SequenceEqual(DataPlan.BatchPlan(lengths, 8, 1, 2), new ArrayComparer()), "a pure function of its arguments");
        Assert.IsFalse(plan.SequenceEqual(DataPlan.BatchPlan(lengths, 8, 1, 3), new ArrayComparer()), "epochs differ");
    }

    private static TextDataset Toy() => TextDataset.FromExamples(Enumerable.Range(0, 96).Select(i =>
        new TextExample(i % 2 == 0 ? $"good great fine {i % 7}" : $"bad awful poor {i % 5}", null, i % 2 == 0 ? "pos" : "neg")));

    [TestMethod]
    public void AFixedLabelList_SetsTheOutputOrder_EvenForClassesWithoutExamples()
    {
        // As the ML.NET layer uses it: classes in key order, one ("meh") without any training row.
        var options = new TrainingOptions { Model = { Preset = ModelPreset.Tiny, TokenizerMerges = 30 }, Data = { Labels = ["pos", "meh", "neg"] }, Loop = { Epochs = 1, MaxSteps = 3, BatchSize = 16 }, Compute = { Device = "cpu" } };
        var (classifier, report) = TextClassifierTrainer.Train(Toy(), null, options);
        using (classifier)
        {
            CollectionAssert.AreEqual(new[] { "pos", "meh", "neg" }, classifier.Labels.ToArray());
            var p = classifier.PredictProbabilities(["good great fine 1", "bad awful poor 2"]);
            Assert.IsTrue(p.All(row => row.Length == 3 && Math.Abs(row.Sum() - 1) < 1e-5));
            Assert.AreEqual(96 - 10, report.TrainExamples);
        }
        // Without the list: ordinal order of the training labels.
        var (sorted, _) = TextClassifierTrainer.Train(Toy(), null, new TrainingOptions { Model = { Preset = ModelPreset.Tiny, TokenizerMerges = 30 }, Loop = { Epochs = 1, MaxSteps = 1 }, Compute = { Device = "cpu" } });
        using (sorted) CollectionAssert.AreEqual(new[] { "neg", "pos" }, sorted.Labels.ToArray());

        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => LabelMap.Fixed(["a", "b", "a"])).Message, "'a' more than once");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => LabelMap.Fixed(["a"])).Message, "at least two");
        var missing = Assert.ThrowsExactly<InvalidDataException>(() => TextClassifierTrainer.Train(Toy(), null,
            new TrainingOptions { Model = { Preset = ModelPreset.Tiny, TokenizerMerges = 30 }, Data = { Labels = ["pos", "other"] }, Loop = { Epochs = 1, MaxSteps = 1 }, Compute = { Device = "cpu" } }));
        StringAssert.Contains(missing.Message, "neg");
    }

    [TestMethod]
    public void ProgressReportsEveryStep_AndEachEpochAsItEnds()
    {
        var reports = new List<TrainingProgress>();
        var options = new TrainingOptions { Model = { Preset = ModelPreset.Tiny, TokenizerMerges = 30 }, Data = { ValidationFraction = 0 }, Loop = { Epochs = 3, BatchSize = 32 }, Compute = { Device = "cpu" } };
        var (classifier, report) = TextClassifierTrainer.Train(Toy(), null, options, new InlineProgress(reports.Add));
        classifier.Dispose();
        var steps = reports.Where(r => r.CompletedEpoch is null).ToList();
        var epochs = reports.Where(r => r.CompletedEpoch is not null).ToList();
        CollectionAssert.AreEqual(Enumerable.Range(1, 9).ToArray(), steps.Select(r => r.Step).ToArray(), "one report per step (96 rows / 32 = 3 per epoch)");
        CollectionAssert.AreEqual(new[] { 1, 2, 3 }, epochs.Select(r => r.CompletedEpoch!.Epoch).ToArray());
        CollectionAssert.AreEqual(report.Epochs.ToArray(), epochs.Select(r => r.CompletedEpoch!).ToArray());
        // Each epoch's report comes after its last step and before the next epoch's first.
        CollectionAssert.AreEqual(new[] { 3, 7, 11 }, epochs.Select(e => reports.IndexOf(e)).ToArray());
    }

    private sealed class InlineProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    [TestMethod]
    public void GradientAccumulationEqualsTheWholeBatch()
    {
        float[] Run(int micro)
        {
            var options = new TrainingOptions
            {
                Model = { Preset = ModelPreset.Tiny, TokenizerMerges = 30, Dropout = 0 },
                Optimizer = { Algorithm = OptimizerAlgorithm.AdamW, LearningRate = 1e-2 },
                Loop = { Epochs = 1, MaxSteps = 2, BatchSize = 16, GradientAccumulation = micro },
                Compute = { Device = "cpu", Precision = ComputePrecision.None }, // the arithmetic, in float32 (bf16 rounds each micro-batch apart)
            };
            var (classifier, _) = TextClassifierTrainer.Train(Toy(), null, options);
            using (classifier) return classifier.Model.named_parameters().SelectMany(p => p.parameter.detach().ToArray<float>()).ToArray();
        }
        var whole = Run(1);
        var accumulated = Run(4);
        var worst = whole.Zip(accumulated).Max(p => Math.Abs(p.First - p.Second));
        Assert.IsTrue(worst < 1e-5, $"max weight difference {worst}");
    }

    [TestMethod]
    public void EarlyStoppingStopsWhenTheMetricStalls()
    {
        // A vanishing learning rate keeps validation accuracy constant: no improvement after epoch 1.
        var options = new TrainingOptions
        {
            Model = { Preset = ModelPreset.Tiny, TokenizerMerges = 30 },
            Optimizer = { LearningRateSchedule = ScheduleShape.Constant, LearningRate = 1e-12 },
            Loop = { Epochs = 6, BatchSize = 32, EarlyStoppingMetric = EarlyStoppingMetric.Accuracy, Patience = 2 },
            Compute = { Device = "cpu" },
        };
        var (classifier, report) = TextClassifierTrainer.Train(Toy(), null, options);
        classifier.Dispose();
        Assert.IsTrue(report.StoppedEarly);
        Assert.AreEqual(3, report.Epochs.Count, "epoch 1 best, epochs 2 and 3 without improvement");
        Assert.AreEqual(1, report.BestEpoch);
    }

    private sealed class ArrayComparer : IEqualityComparer<int[]>
    {
        public bool Equals(int[]? a, int[]? b) => a!.SequenceEqual(b!);
        public int GetHashCode(int[] a) => a.Length;
    }
}
