using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using static Microsoft.ML.Lorenza.MLNet.Tests.SentimentPipeline;

namespace Microsoft.ML.Lorenza.MLNet.Tests;

[TestClass]
public sealed class PipelineTests
{
    [TestMethod]
    public void Fit_LearnsSentiment_AndEvaluateAgreesWithAHandCount()
    {
        var scored = Trained.Transform(Test);
        var metrics = Context.MulticlassClassification.Evaluate(scored, labelColumnName: "Label", scoreColumnName: "Score", predictedLabelColumnName: "PredictedLabel");

        // Independent count from the same rows: the original string labels (read again from the test data), the
        // pipeline's string prediction, and -mean log Score[k] where k is the true label's position in ML.NET's KeyValues.
        var truth = Context.Data.CreateEnumerable<Review>(Test, reuseRowObject: false).Select(r => r.Label).ToList();
        var rows = Context.Data.CreateEnumerable<ScoredReview>(scored, reuseRowObject: false).ToList();
        VBuffer<ReadOnlyMemory<char>> keyValues = default;
        scored.Schema["Label"].GetKeyValues(ref keyValues);
        var keys = keyValues.DenseValues().Select(v => v.ToString()).ToList();
        var accuracy = rows.Zip(truth).Count(p => p.First.PredictedLabel == p.Second) / (double)rows.Count;
        var logLoss = rows.Zip(truth).Average(p => -Math.Log(Math.Max(p.First.Score[keys.IndexOf(p.Second)], 1e-15)));
        var majority = truth.GroupBy(t => t).Max(g => g.Count()) / (double)truth.Count;
        Console.WriteLine($"accuracy {metrics.MicroAccuracy:F3} (majority {majority:F3}), log-loss {metrics.LogLoss:F4}");

        Assert.AreEqual(400, rows.Count);
        Assert.AreEqual(accuracy, metrics.MicroAccuracy, 1e-9, "ML.NET's accuracy must equal the hand count over the same rows");
        Assert.AreEqual(logLoss, metrics.LogLoss, 1e-4, "ML.NET's log-loss must equal -mean log Score[true key]: Score is probabilities in key order");
        Assert.IsTrue(metrics.MicroAccuracy >= 0.75 && metrics.MicroAccuracy >= majority + 0.2,
            $"accuracy {metrics.MicroAccuracy:F3} should clearly beat the majority class ({majority:F3})");
        Assert.IsTrue(Log.Any(l => l.StartsWith("epoch 8:")), "the Log option receives one line per epoch:\n" + string.Join("\n", Log));
        Assert.IsTrue(Log.FindIndex(l => l.StartsWith("epoch 1:")) < Log.FindIndex(l => l.StartsWith("epoch 2/")), "epoch lines come as epochs end, not after training");
    }

    [TestMethod]
    public void PredictionEngine_GivesTheTransformResult_ForTheSameRow()
    {
        var engine = Context.Model.CreatePredictionEngine<Review, ReviewPrediction>(Trained);
        var first = Context.Data.CreateEnumerable<Review>(Test, reuseRowObject: false).Take(20).ToList();
        var transformed = Context.Data.CreateEnumerable<ScoredReview>(Trained.Transform(Context.Data.LoadFromEnumerable(first)), reuseRowObject: false).ToList();
        for (var i = 0; i < first.Count; i++)
        {
            var single = engine.Predict(first[i]);
            Assert.AreEqual(transformed[i].PredictedLabel, single.Prediction);
            Assert.AreEqual(2, single.Score.Length);
            Assert.AreEqual(1.0, single.Score.Sum(), 1e-5);
            for (var k = 0; k < 2; k++) Assert.AreEqual(transformed[i].Score[k], single.Score[k], 1e-6f);
        }
        var positive = engine.Predict(new Review { Text = "honestly, the camera is very impressive and the food was excellent" });
        var negative = engine.Predict(new Review { Text = "the laptop was awful and the support team is really useless" });
        Assert.AreEqual("positive", positive.Prediction);
        Assert.AreEqual("negative", negative.Prediction);
    }

    [TestMethod]
    public void OutputSchema_TypesAndAnnotations_MatchTheEstimatorsPromise()
    {
        var schema = Trained.GetOutputSchema(Train.Schema);
        var keys = Classifier.GetOutputSchema(((IEnumerable<ITransformer>)Trained).First().GetOutputSchema(Train.Schema));

        var score = keys["Score"];
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single, 2), score.Type);
        VBuffer<ReadOnlyMemory<char>> slotNames = default;
        score.GetSlotNames(ref slotNames);
        CollectionAssert.AreEqual(Classifier.Labels.ToArray(), slotNames.DenseValues().Select(v => v.ToString()).ToArray());

        var predicted = keys["PredictedLabel"];
        Assert.AreEqual(new KeyDataViewType(typeof(uint), 2), predicted.Type);
        VBuffer<ReadOnlyMemory<char>> keyValues = default;
        predicted.GetKeyValues(ref keyValues);
        VBuffer<ReadOnlyMemory<char>> labelKeyValues = default;
        keys["Label"].GetKeyValues(ref labelKeyValues);
        CollectionAssert.AreEqual(labelKeyValues.DenseValues().Select(v => v.ToString()).ToArray(), keyValues.DenseValues().Select(v => v.ToString()).ToArray());

        // After MapKeyToValue the whole pipeline gives back strings.
        Assert.AreEqual(TextDataViewType.Instance, schema["PredictedLabel"].Type);

        // The SchemaShape promise (computed through a loader, as ML.NET's Fit does) agrees with the real columns.
        var loader = Context.Data.CreateTextLoader<Review>(separatorChar: '\t', hasHeader: true);
        var shape = loader.Append(Pipeline(Context, Options())).GetOutputSchema();
        var beforeMapBack = loader.Append(Context.Transforms.Conversion.MapValueToKey("Label")
            .Append(Context.MulticlassClassification.Trainers.Lorenza(Options()))).GetOutputSchema();
        AssertShapeMatches(beforeMapBack.Single(c => c.Name == "Score"), score);
        AssertShapeMatches(beforeMapBack.Single(c => c.Name == "PredictedLabel"), predicted);
        AssertShapeMatches(shape.Single(c => c.Name == "PredictedLabel"), schema["PredictedLabel"]);
    }

    [TestMethod]
    public void Transform_IsLazy_AndADisposedModelSaysSo()
    {
        // A disposed copy of the model: reading only passthrough columns must never call it; reading Score must fail clearly.
        var path = Path.Combine(Path.GetTempPath(), $"lorenza-lazy-{Guid.NewGuid():N}.zip");
        Classifier.Save(path);
        var copy = LorenzaTransformer.Load(path, "cpu");
        File.Delete(path);
        copy.Dispose();
        var scored = copy.Transform(Test);
        var count = 0;
        using (var cursor = scored.GetRowCursor([scored.Schema["Text"]]))
        {
            Assert.IsFalse(cursor.IsColumnActive(scored.Schema["Score"]));
            while (cursor.MoveNext()) count++;
        }
        Assert.AreEqual(400, count);
        using var scoring = scored.GetRowCursor([scored.Schema["Score"]]);
        Assert.IsTrue(scoring.MoveNext());
        var getter = scoring.GetGetter<VBuffer<float>>(scored.Schema["Score"]);
        VBuffer<float> score = default;
        Assert.ThrowsExactly<ObjectDisposedException>(() => getter(ref score));
    }

    private static void AssertShapeMatches(SchemaShape.Column promised, DataViewSchema.Column actual)
    {
        var isVector = actual.Type is VectorDataViewType;
        Assert.AreEqual(isVector ? SchemaShape.Column.VectorKind.Vector : SchemaShape.Column.VectorKind.Scalar, promised.Kind, actual.Name);
        var itemType = actual.Type is VectorDataViewType v ? v.ItemType : actual.Type;
        Assert.AreEqual(itemType is KeyDataViewType, promised.IsKey, actual.Name);
        Assert.AreEqual(itemType.RawType, promised.ItemType.RawType, actual.Name);
        CollectionAssert.AreEquivalent(actual.Annotations.Schema.Select(a => a.Name).ToArray(), promised.Annotations.Select(a => a.Name).ToArray(), actual.Name);
    }

    private sealed class ScoredReview
    {
        public float[] Score { get; set; } = [];
        public string PredictedLabel { get; set; } = "";
    }
}
