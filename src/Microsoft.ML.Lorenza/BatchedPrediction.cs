using Microsoft.ML.Data;

namespace Microsoft.ML.Lorenza;

/// <summary>
/// Scores a cursor's rows in batches: a second cursor over the same data (same order, text columns only)
/// reads up to <see cref="BatchSize"/> rows ahead and the model runs on them at once, which is several times
/// faster than one row per forward pass. Lazy as <see cref="RowPrediction"/>: nothing runs until a prediction
/// is read, and rows passed over without reading are not scored. Both cursors' row ids are compared; should a
/// data view ever give two cursors different orders, scoring falls back to one row at a time.
/// </summary>
internal sealed class BatchedPrediction : Prediction, IDisposable
{
    public const int BatchSize = 64;

    private readonly LorenzaTransformer transformer;
    private readonly DataViewRowCursor main;
    private readonly DataViewRowCursor reader;
    private readonly RowTexts readerTexts;
    private readonly ValueGetter<DataViewRowId> mainId;
    private readonly ValueGetter<DataViewRowId> readerId;
    private readonly List<(DataViewRowId Id, float[] Probabilities)> batch = [];
    private long batchStart;   // main-cursor position of batch[0]
    private long readerNext;   // position of the reader's next row
    private RowPrediction? fallback;

    public BatchedPrediction(LorenzaTransformer transformer, DataViewRowCursor main, DataViewRowCursor reader)
    {
        this.transformer = transformer;
        this.main = main;
        this.reader = reader;
        readerTexts = new RowTexts(transformer, reader);
        mainId = main.GetIdGetter();
        readerId = reader.GetIdGetter();
    }

    protected override float[] Current()
    {
        if (fallback is not null) return fallback.Probabilities();
        var position = main.Position;
        if (position < batchStart || position >= batchStart + batch.Count) Fill(position);
        var index = (int)(position - batchStart);
        DataViewRowId id = default;
        mainId(ref id);
        if (index < batch.Count && batch[index].Id.Equals(id)) return batch[index].Probabilities;
        fallback = new RowPrediction(transformer, main);
        return fallback.Probabilities();
    }

    // Moves the reader to the main cursor's position (skipping rows nobody read) and scores the next batch.
    private void Fill(long position)
    {
        batch.Clear();
        while (readerNext < position && reader.MoveNext()) readerNext++;
        batchStart = readerNext;
        var texts = new List<string>(BatchSize);
        var pairs = new List<string?>(BatchSize);
        var ids = new List<DataViewRowId>(BatchSize);
        while (texts.Count < BatchSize && reader.MoveNext())
        {
            readerNext++;
            var (text, pair) = readerTexts.Read();
            DataViewRowId id = default;
            readerId(ref id);
            texts.Add(text);
            pairs.Add(pair);
            ids.Add(id);
        }
        if (texts.Count == 0) return;
        var probabilities = transformer.PredictBatch(texts, pairs.Any(p => p is not null) ? pairs : null);
        for (var i = 0; i < texts.Count; i++) batch.Add((ids[i], probabilities[i]));
    }

    public void Dispose() => reader.Dispose();
}
