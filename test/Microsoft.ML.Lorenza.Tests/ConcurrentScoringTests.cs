using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using static Microsoft.ML.Lorenza.MLNet.Tests.SentimentPipeline;

namespace Microsoft.ML.Lorenza.MLNet.Tests;

/// <summary>
/// ML.NET's contract for a fitted transformer: it scores from several threads at once, while a PredictionEngine is one
/// per thread. Both give exactly what one thread gives.
/// </summary>
[TestClass]
public sealed class ConcurrentScoringTests
{
    [TestMethod]
    public void TransformFromEightThreads_AndAnEnginePerThread_GiveExactlyTheSerialScores()
    {
        var rows = Context.Data.CreateEnumerable<Review>(Test, false).Take(96).ToList();
        var view = Context.Data.LoadFromEnumerable(rows);
        var serial = Scores(Classifier.Transform(view));
        var engine = Context.Model.CreatePredictionEngine<Review, ScoreOnly>(Classifier);
        var serialOneByOne = rows.Select(r => engine.Predict(r).Score).ToList();

        var transformed = new List<float[]>[8];
        var predicted = new float[rows.Count][];
        using var start = new Barrier(8);
        var threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            transformed[t] = Scores(Classifier.Transform(view));
            var own = Context.Model.CreatePredictionEngine<Review, ScoreOnly>(Classifier);
            for (var i = t; i < rows.Count; i += 8) predicted[i] = own.Predict(rows[i]).Score;
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        for (var t = 0; t < 8; t++)
            for (var i = 0; i < rows.Count; i++) CollectionAssert.AreEqual(serial[i], transformed[t][i], $"thread {t}, row {i} (Transform)");
        for (var i = 0; i < rows.Count; i++) CollectionAssert.AreEqual(serialOneByOne[i], predicted[i], $"row {i} (PredictionEngine per thread)");
    }

    private sealed class ScoreOnly
    {
        public float[] Score { get; set; } = [];
    }

    private static List<float[]> Scores(IDataView scored) => scored.GetColumn<float[]>("Score").ToList();
}
