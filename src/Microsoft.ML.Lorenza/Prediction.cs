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
