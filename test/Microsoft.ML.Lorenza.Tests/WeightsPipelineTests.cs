using Microsoft.ML.Lorenza.Configuration;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.MLNet.Tests;

/// <summary>
/// ML.NET's example weights (<c>exampleWeightColumnName</c>, a float column) and <see cref="LorenzaTrainer.Options.ClassWeights"/>:
/// a pipeline trains with them; a weight column of another type, or a bad weight, is refused before training.
/// </summary>
[TestClass]
public sealed class WeightsPipelineTests
{
    private static readonly MLContext Ml = new(seed: 1);

    [TestMethod]
    public void APipelineWithAWeightColumnAndBalancedClassWeights_Trains_AndSaysEvaluationIsUnweighted()
    {
        var data = Ml.Data.LoadFromEnumerable(TopicData.Rows(48, seed: 9));
        var options = TopicData.Options(epochs: 1);
        (options.ExampleWeightColumnName, options.ClassWeights, options.MaxSteps) = (nameof(TopicRow.Length), ClassWeighting.Balanced, 3);
        var log = new List<string>();
        options.Log = log.Add;
        var model = Ml.Transforms.Conversion.MapValueToKey("Label").Append(Ml.MulticlassClassification.Trainers.Lorenza(options)).Fit(data);
        Assert.AreEqual(48, Ml.Data.CreateEnumerable<Scored>(model.Transform(data), reuseRowObject: false).Count());
        CollectionAssert.Contains(log, "weighted training loss: balanced class weights (inverse class frequency) × example weights from column 'Length', " +
                                       "the mean Σ wᵢ·ℓᵢ / Σ wᵢ per batch; evaluation metrics are unweighted.");

        // The catalog's shortcut takes the column as ML.NET's trainers do.
        var shortcut = Ml.MulticlassClassification.Trainers.Lorenza(exampleWeightColumnName: nameof(TopicRow.Length));
        Assert.IsNotNull(shortcut);
    }

    [TestMethod]
    public void AWeightColumnThatIsNotFloat_OrMissing_IsRefused_NamingTheFix()
    {
        var data = Ml.Data.LoadFromEnumerable(TopicData.Rows(30, seed: 9));
        var options = TopicData.Options(epochs: 1);
        options.ExampleWeightColumnName = nameof(TopicRow.LabelNumber);
        var pipeline = Ml.Transforms.Conversion.MapValueToKey("Label").Append(Ml.MulticlassClassification.Trainers.Lorenza(options));
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => pipeline.Fit(data));
        StringAssert.Contains(error.Message, "Example weight column 'LabelNumber' is Scalar of Int32, but it must be a float (Single) column");
        StringAssert.Contains(error.Message, "ConvertType(\"LabelNumber\", outputKind: DataKind.Single)");
        Assert.AreEqual(nameof(LorenzaTrainer.Options.ExampleWeightColumnName), error.ParamName);

        var keyed = Ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
        var direct = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Ml.MulticlassClassification.Trainers.Lorenza(options).Fit(keyed));
        StringAssert.Contains(direct.Message, "Example weight column 'LabelNumber' is Int32, but it must be a float (Single) column");

        options.ExampleWeightColumnName = "Weight";
        var missing = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Ml.MulticlassClassification.Trainers.Lorenza(options).Fit(keyed));
        StringAssert.Contains(missing.Message, "The training data has no example weight column 'Weight'.");
    }

    [TestMethod]
    public void ANegativeOrNaNOrAllZeroWeight_IsRefusedBeforeTraining()
    {
        void Refused(Action<List<TopicRow>> spoil, string message)
        {
            var rows = TopicData.Rows(30, seed: 9);
            spoil(rows);
            var keyed = Ml.Transforms.Conversion.MapValueToKey("Label").Fit(Ml.Data.LoadFromEnumerable(rows)).Transform(Ml.Data.LoadFromEnumerable(rows));
            var options = TopicData.Options(epochs: 1);
            options.ExampleWeightColumnName = nameof(TopicRow.Length);
            var error = Assert.ThrowsExactly<InvalidDataException>(() => Ml.MulticlassClassification.Trainers.Lorenza(options).Fit(keyed));
            StringAssert.Contains(error.Message, message);
        }
        Refused(r => r[4].Length = -2, "The training data's row 4: the weight -2 (ExampleWeightColumnName 'Length') is negative; weights must be finite numbers >= 0");
        Refused(r => r[7].Length = float.NaN, "The training data's row 7: the weight NaN (ExampleWeightColumnName 'Length') is not a finite number");
        Refused(r => r.ForEach(x => x.Length = 0), "The training data: every weight (ExampleWeightColumnName 'Length') is 0, so training would learn nothing");
    }

    private sealed class Scored
    {
        public float[] Score { get; set; } = [];
    }
}
