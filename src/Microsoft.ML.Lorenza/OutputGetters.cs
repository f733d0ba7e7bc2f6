using Microsoft.ML.Data;

namespace Microsoft.ML.Lorenza;

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
