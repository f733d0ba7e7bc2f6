using Microsoft.ML.Data;

namespace Microsoft.ML.Lorenza;

/// <summary>The row-to-row mapper behind PredictionEngine and TransformerChain composition.</summary>
internal sealed class PredictionRowMapper : IRowToRowMapper
{
    private readonly LorenzaTransformer transformer;

    public PredictionRowMapper(LorenzaTransformer transformer, DataViewSchema inputSchema)
    {
        this.transformer = transformer;
        InputSchema = inputSchema;
        OutputSchema = transformer.GetOutputSchema(inputSchema);
    }

    public DataViewSchema InputSchema { get; }
    public DataViewSchema OutputSchema { get; }

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns) =>
        OutputGetters.Dependencies(transformer, InputSchema, dependingColumns);

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
    {
        if (input.Schema != InputSchema)
            throw new ArgumentException("The row's schema is not the schema this mapper was made for; call GetRowToRowMapper with the row's schema.", nameof(input));
        return new PredictionRow(OutputSchema, input, new OutputGetters(OutputSchema, input, new RowPrediction(transformer, input),
            OutputGetters.ActiveFlags(OutputSchema, activeColumns)));
    }

    private sealed class PredictionRow(DataViewSchema schema, DataViewRow input, OutputGetters getters) : DataViewRow
    {
        public override DataViewSchema Schema => schema;
        public override long Position => input.Position;
        public override long Batch => input.Batch;
        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();
        public override bool IsColumnActive(DataViewSchema.Column column) => getters.IsActive(column);
        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => getters.Get<TValue>(column);

        protected override void Dispose(bool disposing)
        {
            if (disposing) input.Dispose();
            base.Dispose(disposing);
        }
    }
}
