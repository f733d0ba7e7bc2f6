using Microsoft.ML.Data;

namespace Microsoft.ML.Lorenza;

/// <summary>The lazy result of <see cref="LorenzaTransformer.Transform"/>: the input's rows plus Score and PredictedLabel.</summary>
internal sealed class PredictionDataView : IDataView
{
    private readonly LorenzaTransformer transformer;
    private readonly IDataView input;

    public PredictionDataView(LorenzaTransformer transformer, IDataView input)
    {
        this.transformer = transformer;
        this.input = input;
        Schema = transformer.GetOutputSchema(input.Schema);
    }

    public bool CanShuffle => input.CanShuffle;
    public DataViewSchema Schema { get; }
    public long? GetRowCount() => input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var requested = columnsNeeded.ToList();
        var inputCursor = input.GetRowCursor(OutputGetters.Dependencies(transformer, input.Schema, requested), rand);
        var predicts = requested.Any(c => c.Index >= input.Schema.Count);
        // In input order a second cursor reads ahead and the model scores whole batches; a shuffled order
        // cannot be read twice alike, so that cursor scores row by row.
        Prediction prediction = predicts && rand is null
            ? new BatchedPrediction(transformer, inputCursor, input.GetRowCursor(TextColumnsOf(input.Schema)))
            : new RowPrediction(transformer, inputCursor);
        return new Cursor(Schema, inputCursor, prediction, new OutputGetters(Schema, inputCursor, prediction,
            OutputGetters.ActiveFlags(Schema, requested)));
    }

    private IEnumerable<DataViewSchema.Column> TextColumnsOf(DataViewSchema schema)
    {
        var (s1, s2) = transformer.TextColumns(schema);
        return s2 is { } pair ? [s1, pair] : [s1];
    }

    // One cursor: the model's forward pass already uses every core, so parallel cursors would only contend.
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor(DataViewSchema schema, DataViewRowCursor input, Prediction prediction, OutputGetters getters) : DataViewRowCursor
    {
        public override DataViewSchema Schema => schema;
        public override long Position => input.Position;
        public override long Batch => input.Batch;
        public override bool MoveNext() => input.MoveNext();
        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();
        public override bool IsColumnActive(DataViewSchema.Column column) => getters.IsActive(column);
        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => getters.Get<TValue>(column);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                (prediction as IDisposable)?.Dispose();
                input.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
