using Microsoft.ML.Data;

namespace Microsoft.ML.Lorenza;

/// <summary>Serves Score and PredictedLabel from the probabilities of the current row, computed on the first getter call.</summary>
internal abstract class Prediction
{
    protected abstract float[] Current();

    /// <summary>Class probabilities of the current row, in key order.</summary>
    public float[] Probabilities() => Current();

    public ValueGetter<VBuffer<float>> Score => (ref VBuffer<float> value) =>
    {
        var p = Current();
        var editor = VBufferEditor.Create(ref value, p.Length);
        p.CopyTo(editor.Values);
        value = editor.Commit();
    };

    public ValueGetter<uint> PredictedLabel => (ref uint value) =>
    {
        var p = Current();
        var best = 0;
        for (var i = 1; i < p.Length; i++) if (p[i] > p[best]) best = i;
        value = (uint)best + 1; // keys are 1-based; 0 means missing
    };
}

/// <summary>Reads the text (and optional pair) of a row; getters are made on first use, when the columns are active.</summary>
internal sealed class RowTexts(LorenzaTransformer transformer, DataViewRow row)
{
    private ValueGetter<ReadOnlyMemory<char>>? sentence1;
    private ValueGetter<ReadOnlyMemory<char>>? sentence2;

    public (string Text, string? Pair) Read()
    {
        if (sentence1 is null)
        {
            var (s1, s2) = transformer.TextColumns(row.Schema);
            sentence1 = row.GetGetter<ReadOnlyMemory<char>>(s1);
            if (s2 is { } pairColumn) sentence2 = row.GetGetter<ReadOnlyMemory<char>>(pairColumn);
        }
        ReadOnlyMemory<char> text = default, pair = default;
        sentence1(ref text);
        sentence2?.Invoke(ref pair);
        return (text.ToString(), sentence2 is null ? null : pair.ToString());
    }
}

/// <summary>
/// One row at a time: the model runs on the input row's current position, once. Lazy: rows whose outputs are
/// never read are never run through the model. Used by PredictionEngine and shuffled cursors.
/// </summary>
internal sealed class RowPrediction(LorenzaTransformer transformer, DataViewRow input) : Prediction
{
    private readonly RowTexts texts = new(transformer, input);
    private long position = -1;
    private float[] probabilities = [];

    protected override float[] Current()
    {
        if (input.Position != position || position < 0)
        {
            var (text, pair) = texts.Read();
            probabilities = transformer.Predict(text, pair);
            position = input.Position;
        }
        return probabilities;
    }
}

/// <summary>Shared by the output row and the cursor: input columns pass through, the two added ones are predicted.</summary>
internal sealed class OutputGetters(DataViewSchema outputSchema, DataViewRow input, Prediction prediction, bool[] active)
{
    private int InputCount => input.Schema.Count;

    public bool IsActive(DataViewSchema.Column column) =>
        column.Index < InputCount ? input.IsColumnActive(input.Schema[column.Index]) : active[column.Index];

    public ValueGetter<T> Get<T>(DataViewSchema.Column column)
    {
        if (column.Index < InputCount) return input.GetGetter<T>(input.Schema[column.Index]);
        if (!active[column.Index])
            throw new InvalidOperationException($"Column '{column.Name}' was not requested as active for this row or cursor.");
        Delegate getter = column.Index == InputCount ? prediction.Score : prediction.PredictedLabel;
        return getter as ValueGetter<T> ?? throw new InvalidOperationException(
            $"Column '{column.Name}' is {outputSchema[column.Index].Type}; it cannot be read as {typeof(T).Name}.");
    }

    public static bool[] ActiveFlags(DataViewSchema outputSchema, IEnumerable<DataViewSchema.Column> columns)
    {
        var flags = new bool[outputSchema.Count];
        foreach (var c in columns) flags[c.Index] = true;
        return flags;
    }

    /// <summary>Input columns needed for the requested output columns: passthroughs, and the texts for the predictions.</summary>
    public static IEnumerable<DataViewSchema.Column> Dependencies(LorenzaTransformer transformer, DataViewSchema inputSchema, IEnumerable<DataViewSchema.Column> outputColumns)
    {
        var needed = new HashSet<int>();
        foreach (var c in outputColumns)
        {
            if (c.Index < inputSchema.Count) { needed.Add(c.Index); continue; }
            var (s1, s2) = transformer.TextColumns(inputSchema);
            needed.Add(s1.Index);
            if (s2 is { } pair) needed.Add(pair.Index);
        }
        return needed.Order().Select(i => inputSchema[i]);
    }
}

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
