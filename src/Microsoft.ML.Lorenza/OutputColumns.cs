using Microsoft.ML.Data;

namespace Microsoft.ML.Lorenza;

/// <summary>
/// The two columns the transformer adds: Score (float vector, one probability per class in key order, with
/// SlotNames) and PredictedLabel (the label's key type with its KeyValues).
/// </summary>
internal static class OutputColumns
{
    public static DataViewSchema Schema(DataViewSchema input, string scoreName, string predictedLabelName, LabelKeys keys)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(input);
        builder.AddColumn(scoreName, new VectorDataViewType(NumberDataViewType.Single, keys.Count), keys.SlotNamesAnnotations());
        builder.AddColumn(predictedLabelName, new KeyDataViewType(typeof(uint), keys.Count), keys.KeyValuesAnnotations());
        return builder.ToSchema();
    }

    /// <summary>
    /// The same promise as a <see cref="SchemaShape"/>. Third-party code cannot construct SchemaShape columns
    /// (ML.NET keeps that constructor internal), so the shape comes from public estimators that add columns of
    /// exactly these types: CopyColumns of the label gives PredictedLabel (key + KeyValues), and a CustomMapping
    /// whose output definition is the Score column gives Score. Neither is ever fitted.
    /// </summary>
    public static SchemaShape Shape(SchemaShape input, SchemaShape.Column label, string scoreName, string predictedLabelName)
    {
        var ml = new MLContext(seed: 0);
        var withPrediction = ml.Transforms.CopyColumns(predictedLabelName, label.Name).GetOutputSchema(input);

        var definition = SchemaDefinition.Create(typeof(ScoreRow));
        var score = definition[0];
        score.ColumnName = scoreName;
        score.ColumnType = new VectorDataViewType(NumberDataViewType.Single, 2); // SchemaShape keeps "known size", not the size
        var hasKeyValues = label.Annotations.Any(a => a.Name == LabelKeys.KeyValuesKind && a.Kind == SchemaShape.Column.VectorKind.Vector);
        if (hasKeyValues)
            score.AddAnnotation(LabelKeys.SlotNamesKind, new VBuffer<ReadOnlyMemory<char>>(2, ["a".AsMemory(), "b".AsMemory()]),
                new VectorDataViewType(TextDataViewType.Instance, 2));
        return ml.Transforms.CustomMapping<NoColumns, ScoreRow>((_, _) => { }, contractName: null, outputSchemaDefinition: definition)
            .GetOutputSchema(withPrediction);
    }

    /// <summary>Reads nothing: the Score shape needs no input column.</summary>
    public sealed class NoColumns;

    /// <summary>Carries the Score column's type for <see cref="Shape"/>.</summary>
    public sealed class ScoreRow
    {
        public float[] Score = [];
    }
}
