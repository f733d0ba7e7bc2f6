using System.Diagnostics;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using static Microsoft.ML.Lorenza.MLNet.Tests.SentimentPipeline;

namespace Microsoft.ML.Lorenza.MLNet.Tests;

[TestClass]
public sealed class BatchedScoringTests
{
    [TestMethod]
    public void TransformScoresInBatches_LikeOneRowAtATime()
    {
        var texts = Context.Data.CreateEnumerable<Review>(Test, false).Select(r => r.Text).ToList();
        var engine = Context.Model.CreatePredictionEngine<Review, ScoreOnly>(Classifier);
        List<float[]> batched = [], single = [];
        // Best of 3 after a warm-up of each path, so JIT and first-call costs are not counted.
        double Best(Action run)
        {
            run();
            return Enumerable.Range(0, 3).Min(_ =>
            {
                var watch = Stopwatch.StartNew();
                run();
                return watch.Elapsed.TotalSeconds;
            });
        }
        var batchedSeconds = Best(() => batched = Scores(Classifier.Transform(Test)));
        var singleSeconds = Best(() => single = texts.Select(t => engine.Predict(new Review { Text = t }).Score).ToList());

        var worst = batched.Zip(single).Max(p => p.First.Zip(p.Second, (a, b) => Math.Abs(a - b)).Max());
        Console.WriteLine($"{texts.Count} rows: batched {batchedSeconds * 1000:F0} ms, one row at a time {singleSeconds * 1000:F0} ms " +
            $"({singleSeconds / batchedSeconds:F1}x); max |difference| {worst:E1}");
        Assert.AreEqual(texts.Count, batched.Count);
        Assert.IsTrue(worst <= 1e-5, $"padding a row into a batch changed its probabilities by {worst:E1}");
    }

    [TestMethod]
    public void ShuffledCursor_AndADataViewWhoseCursorsDisagree_StillScoreEachRowRight()
    {
        var rows = Context.Data.CreateEnumerable<Review>(Test, false).Take(100).ToList();
        var expected = Scores(Classifier.Transform(Context.Data.LoadFromEnumerable(rows)));

        // A shuffled cursor cannot be read twice alike: it is scored one row at a time.
        var view = Classifier.Transform(Context.Data.LoadFromEnumerable(rows));
        using (var cursor = view.GetRowCursor(view.Schema, new Random(5)))
        {
            var text = cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema["Text"]);
            var score = cursor.GetGetter<VBuffer<float>>(view.Schema["Score"]);
            var byText = rows.Select((r, i) => (r.Text, i)).GroupBy(p => p.Text).ToDictionary(g => g.Key, g => g.First().i);
            var seen = 0;
            while (cursor.MoveNext())
            {
                ReadOnlyMemory<char> t = default;
                VBuffer<float> s = default;
                text(ref t);
                score(ref s);
                var want = expected[byText[t.ToString()]];
                var got = s.DenseValues().ToArray();
                for (var k = 0; k < 2; k++) Assert.AreEqual(want[k], got[k], 1e-5f, t.ToString());
                seen++;
            }
            Assert.AreEqual(100, seen);
        }

        // A data view whose second cursor runs in reverse: the row ids disagree and scoring falls back to one row at a time.
        var reversing = new SecondCursorReversed(Context.Data.LoadFromEnumerable(rows), rows.Select(r => r.Text).ToList());
        var fallback = Scores(Classifier.Transform(reversing));
        for (var i = 0; i < rows.Count; i++)
            for (var k = 0; k < 2; k++) Assert.AreEqual(expected[i][k], fallback[i][k], 1e-5f, $"row {i}");
    }

    private sealed class ScoreOnly
    {
        public float[] Score { get; set; } = [];
    }

    private static List<float[]> Scores(IDataView scored) => scored.GetColumn<float[]>("Score").ToList();

    /// <summary>Test double: every second cursor yields the rows in reverse order (with their own ids).</summary>
    private sealed class SecondCursorReversed(IDataView source, List<string> texts) : IDataView
    {
        private int cursors;
        public bool CanShuffle => false;
        public DataViewSchema Schema => source.Schema;
        public long? GetRowCount() => texts.Count;
        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [GetRowCursor(columnsNeeded, rand)];

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
            new Cursor(Schema, texts, reversed: cursors++ % 2 == 1);

        private sealed class Cursor(DataViewSchema schema, List<string> texts, bool reversed) : DataViewRowCursor
        {
            private int position = -1;
            private int Row => reversed ? texts.Count - 1 - position : position;
            public override DataViewSchema Schema => schema;
            public override long Position => position;
            public override long Batch => 0;
            public override bool MoveNext() => ++position < texts.Count;
            public override bool IsColumnActive(DataViewSchema.Column column) => true;
            public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)Row, 0);

            public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
            {
                if (column.Name != "Text") throw new InvalidOperationException($"only Text is readable here, not {column.Name}");
                ValueGetter<ReadOnlyMemory<char>> getter = (ref ReadOnlyMemory<char> value) => value = texts[Row].AsMemory();
                return (ValueGetter<TValue>)(Delegate)getter;
            }
        }
    }
}
