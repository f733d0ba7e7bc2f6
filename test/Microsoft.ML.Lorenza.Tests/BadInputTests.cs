using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.MLNet.Tests;

/// <summary>Every bad input fails before training with an exception naming the value and the fix.</summary>
[TestClass]
public sealed class BadInputTests
{
    private static readonly MLContext Ml = new(seed: 1);
    private static IDataView Topics => Ml.Data.LoadFromEnumerable(TopicData.Rows(40, seed: 9));

    [TestMethod]
    public void StringLabel_WithoutMapValueToKey_SaysToAddIt_InAPipelineAndInADirectFit()
    {
        var trainer = Ml.MulticlassClassification.Trainers.Lorenza(TopicData.Options());
        var direct = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => trainer.Fit(Topics));
        StringAssert.Contains(direct.Message, "MapValueToKey(\"Label\")");
        StringAssert.Contains(direct.Message, "String");
        Assert.AreEqual(nameof(LorenzaTrainer.Options.LabelColumnName), direct.ParamName);

        // In a pipeline ML.NET checks the SchemaShape first: the same message comes from GetOutputSchema.
        var pipeline = Ml.Transforms.CopyColumns("Copy", "Sentence1").Append(trainer);
        var chained = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => pipeline.Fit(Topics));
        StringAssert.Contains(chained.Message, "MapValueToKey(\"Label\")");
    }

    [TestMethod]
    public void MissingTextColumn_ListsTheColumnsThatExist()
    {
        var options = TopicData.Options();
        options.Sentence1ColumnName = "Review";
        var pipeline = Ml.Transforms.Conversion.MapValueToKey("Label").Append(Ml.MulticlassClassification.Trainers.Lorenza(options));
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => pipeline.Fit(Topics));
        StringAssert.Contains(error.Message, "'Review'");
        StringAssert.Contains(error.Message, "Sentence1");
        StringAssert.Contains(error.Message, "Sentence2");
        Assert.AreEqual(nameof(LorenzaTrainer.Options.Sentence1ColumnName), error.ParamName);

        var keyed = Ml.Transforms.Conversion.MapValueToKey("Label").Fit(Topics).Transform(Topics);
        var direct = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Ml.MulticlassClassification.Trainers.Lorenza(options).Fit(keyed));
        StringAssert.Contains(direct.Message, "Sentence1 (String)");
    }

    [TestMethod]
    public void NumericTextColumn_SaysItMustBeText()
    {
        var options = TopicData.Options();
        options.Sentence1ColumnName = "Length";
        var keyed = Ml.Transforms.Conversion.MapValueToKey("Label").Fit(Topics).Transform(Topics);
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Ml.MulticlassClassification.Trainers.Lorenza(options).Fit(keyed));
        StringAssert.Contains(error.Message, "'Length'");
        StringAssert.Contains(error.Message, "Single");
        StringAssert.Contains(error.Message, "text");
        // The transformer checks the same when scoring data without the text column.
        var shape = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            Ml.Transforms.Conversion.MapValueToKey("Label").Append(Ml.MulticlassClassification.Trainers.Lorenza(options)).Fit(Topics));
        StringAssert.Contains(shape.Message, "Length");
    }

    [TestMethod]
    public void OneClass_AndMismatchedValidationKeys_AreRefused()
    {
        var oneClass = Ml.Data.LoadFromEnumerable(TopicData.Rows(30, seed: 1).Where(r => r.Label == "food"));
        var pipeline = Ml.Transforms.Conversion.MapValueToKey("Label").Append(Ml.MulticlassClassification.Trainers.Lorenza(TopicData.Options()));
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => pipeline.Fit(oneClass));
        StringAssert.Contains(error.Message, "at least two");

        // A validation set keyed by a different MapValueToKey (2 keys instead of 3).
        var twoClasses = Ml.Data.LoadFromEnumerable(TopicData.Rows(30, seed: 1).Where(r => r.Label != "food"));
        var options = TopicData.Options();
        options.ValidationSet = Ml.Transforms.Conversion.MapValueToKey("Label").Fit(twoClasses).Transform(twoClasses);
        var keyed = Ml.Transforms.Conversion.MapValueToKey("Label").Fit(Topics).Transform(Topics);
        var mismatch = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Ml.MulticlassClassification.Trainers.Lorenza(options).Fit(keyed));
        StringAssert.Contains(mismatch.Message, "same fitted MapValueToKey");
    }

    [TestMethod]
    public void EmptyData_SaysNoRows_NotOneClass()
    {
        // MapValueToKey fitted on no rows gives a one-key label: the row count must be checked first.
        var empty = Ml.Data.LoadFromEnumerable(TopicData.Rows(30, seed: 1).Take(0));
        var pipeline = Ml.Transforms.Conversion.MapValueToKey("Label").Append(Ml.MulticlassClassification.Trainers.Lorenza(TopicData.Options()));
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => pipeline.Fit(empty));
        Assert.AreEqual("The training data has no rows: nothing to train on.", error.Message);
    }

    private sealed class LabelValue { public string Label { get; set; } = ""; }

    [TestMethod]
    public void RowsWithAMissingLabel_AreSkippedAndCounted_AllMissingIsAnError()
    {
        // MapValueToKey fitted on two topics gives the third (every third row) key 0 = missing.
        var keyData = Ml.Data.LoadFromEnumerable(new[] { "food", "sports" }.Select(l => new LabelValue { Label = l }));
        var keyed = Ml.Transforms.Conversion.MapValueToKey("Label", keyData: keyData).Fit(Topics).Transform(Topics);
        var log = new List<string>();
        var options = TopicData.Options(epochs: 1);
        options.Log = log.Add;
        using var model = Ml.MulticlassClassification.Trainers.Lorenza(options).Fit(keyed);
        Assert.IsTrue(log.Any(l => l.Contains("skipped 13 row(s) with a missing label")), string.Join("\n", log));
        Assert.AreEqual(27, model.TrainingReport!.TrainExamples);

        var noneKnown = Ml.Data.LoadFromEnumerable(new[] { "weather", "music" }.Select(l => new LabelValue { Label = l }));
        var allMissing = Ml.Transforms.Conversion.MapValueToKey("Label", keyData: noneKnown).Fit(Topics).Transform(Topics);
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => Ml.MulticlassClassification.Trainers.Lorenza(TopicData.Options()).Fit(allMissing));
        StringAssert.Contains(error.Message, "no rows with a label");
    }

    [TestMethod]
    public void BadOptionValues_FailWhenTheTrainerIsCreated_NamingTheOption()
    {
        void Bad(Action<LorenzaTrainer.Options> change, string expectedName)
        {
            var options = TopicData.Options();
            change(options);
            var error = Assert.Throws<ArgumentException>(() => Ml.MulticlassClassification.Trainers.Lorenza(options));
            StringAssert.Contains(error.Message, expectedName);
        }
        Bad(o => o.Rank = 0, "Rank");
        Bad(o => o.Rho = -0.1, "Rho");
        Bad(o => o.RefreshInterval = 0, "RefreshInterval");
        Bad(o => o.BatchSize = 0, "BatchSize");
        Bad(o => o.MaxEpochs = 0, "MaxEpochs");
        Bad(o => o.ZoQueries = 0, "ZoQueries");
        Bad(o => o.Precision = (ComputePrecision)8, "Precision");
        Bad(o => o.LearningRateSchedule = (ScheduleShape)9, "LearningRateSchedule");
        Bad(o => o.WarmupFraction = 1.5, "WarmupFraction");
        Bad(o => o.Optimizer = (OptimizerAlgorithm)42, "Optimizer");
        Bad(o => o.Architecture = (ModelPreset)7, "Preset");
        var device = Assert.Throws<ArgumentException>(() => TopicData.Options().Device = "tpu"); // refused when set
        StringAssert.Contains(device.Message, "'cpu', 'cuda' or 'cuda:N'");
        Assert.ThrowsExactly<ArgumentNullException>(() => Ml.MulticlassClassification.Trainers.Lorenza((LorenzaTrainer.Options)null!));
    }

    [TestMethod]
    public void CudaWithoutAGpu_FailsAtFit_SayingToUseCpu()
    {
        if (Runtime.TorchRuntime.CudaAvailable) Assert.Inconclusive("this machine has CUDA; the check is for machines without it");
        var options = TopicData.Options(epochs: 1);
        options.Device = "cuda:1";
        var keyed = Ml.Transforms.Conversion.MapValueToKey("Label").Fit(Topics).Transform(Topics);
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => Ml.MulticlassClassification.Trainers.Lorenza(options).Fit(keyed));
        StringAssert.Contains(error.Message, "CUDA is not available");
        StringAssert.Contains(error.Message, "'cpu'");
    }

    [TestMethod]
    public void Cancellation_StopsFitBetweenSteps()
    {
        using var cancel = new CancellationTokenSource();
        var options = TopicData.Options(epochs: 50);
        var steps = 0;
        options.Log = line => { if (line.Contains(" step ") && ++steps == 2) cancel.Cancel(); };
        options.CancellationToken = cancel.Token;
        var keyed = Ml.Transforms.Conversion.MapValueToKey("Label").Fit(Topics).Transform(Topics);
        Assert.Throws<OperationCanceledException>(() => Ml.MulticlassClassification.Trainers.Lorenza(options).Fit(keyed));
        Assert.AreEqual(2, steps, "no progress after the cancellation (a line comes every 10 % of 150 steps)");
    }
}
