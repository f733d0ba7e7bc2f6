using Microsoft.ML.Data;

namespace Microsoft.ML.Lorenza;

/// <summary>
/// Finds and checks the trainer's input columns, in a <see cref="DataViewSchema"/> (data) or a
/// <see cref="SchemaShape"/> (pipeline promise). Every mismatch is an <see cref="ArgumentOutOfRangeException"/>
/// (as in ML.NET's own components) whose message names the column, what it is, what it must be, and the fix.
/// </summary>
internal static class InputColumns
{
    public static (DataViewSchema.Column Column, KeyDataViewType Key) Label(DataViewSchema schema, string name, string source)
    {
        var column = Find(schema, name, "label", nameof(LorenzaTrainer.Options.LabelColumnName), source);
        if (column.Type is not KeyDataViewType key || key.RawType != typeof(uint))
            throw NotKey(name, $"{column.Type}");
        if (key.Count < 2)
            throw new ArgumentOutOfRangeException(nameof(LorenzaTrainer.Options.LabelColumnName),
                $"Label column '{name}' has {key.Count} class(es): a classifier needs at least two.");
        return (column, key);
    }

    public static DataViewSchema.Column Text(DataViewSchema schema, string name, string optionName, string source)
    {
        var column = Find(schema, name, "text", optionName, source);
        if (column.Type is not TextDataViewType)
            throw NotText(name, optionName, $"{column.Type}");
        return column;
    }

    /// <summary>The example weight column: a Single (float) scalar, as ML.NET's trainers take it.</summary>
    public static DataViewSchema.Column Weight(DataViewSchema schema, string name, string source)
    {
        var column = Find(schema, name, "example weight", nameof(LorenzaTrainer.Options.ExampleWeightColumnName), source);
        if (column.Type != NumberDataViewType.Single)
            throw NotWeight(name, $"{column.Type}");
        return column;
    }

    public static void Weight(SchemaShape shape, string name)
    {
        var column = Find(shape, name, "example weight", nameof(LorenzaTrainer.Options.ExampleWeightColumnName));
        if (column.Kind != SchemaShape.Column.VectorKind.Scalar || column.IsKey || column.ItemType != NumberDataViewType.Single)
            throw NotWeight(name, Describe(column));
    }

    public static SchemaShape.Column Label(SchemaShape shape, string name)
    {
        var column = Find(shape, name, "label", nameof(LorenzaTrainer.Options.LabelColumnName));
        if (!column.IsKey || column.Kind != SchemaShape.Column.VectorKind.Scalar || column.ItemType.RawType != typeof(uint))
            throw NotKey(name, Describe(column));
        return column;
    }

    public static void Text(SchemaShape shape, string name, string optionName)
    {
        var column = Find(shape, name, "text", optionName);
        if (column.Kind != SchemaShape.Column.VectorKind.Scalar || column.ItemType is not TextDataViewType)
            throw NotText(name, optionName, Describe(column));
    }

    private static DataViewSchema.Column Find(DataViewSchema schema, string name, string role, string optionName, string source)
    {
        if (string.IsNullOrEmpty(name))
            throw new ArgumentException($"{optionName} is empty: name the {role} column.", optionName);
        return schema.GetColumnOrNull(name) ?? throw new ArgumentOutOfRangeException(optionName,
            $"The {source} has no {role} column '{name}'. Its columns are: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => $"{c.Name} ({c.Type})"))}. Set {optionName} to one of them.");
    }

    private static SchemaShape.Column Find(SchemaShape shape, string name, string role, string optionName)
    {
        if (string.IsNullOrEmpty(name))
            throw new ArgumentException($"{optionName} is empty: name the {role} column.", optionName);
        foreach (var column in shape)
            if (column.Name == name) return column;
        throw new ArgumentOutOfRangeException(optionName,
            $"The pipeline has no {role} column '{name}' at this point. Its columns are: {string.Join(", ", shape.Select(c => c.Name))}. Set {optionName} to one of them.");
    }

    private static ArgumentOutOfRangeException NotKey(string name, string actual) =>
        new(nameof(LorenzaTrainer.Options.LabelColumnName),
            $"Label column '{name}' is {actual}, but LORENZA needs a key type (UInt32 keys, as every ML.NET multiclass trainer): " +
            $"add mlContext.Transforms.Conversion.MapValueToKey(\"{name}\") before the trainer.");

    private static ArgumentOutOfRangeException NotText(string name, string optionName, string actual) =>
        new(optionName,
            $"Column '{name}' ({optionName}) is {actual}, but it must be a text (String) column. " +
            "Load it as string (e.g. [LoadColumn] on a string property) or convert it before the trainer.");

    private static ArgumentOutOfRangeException NotWeight(string name, string actual) =>
        new(nameof(LorenzaTrainer.Options.ExampleWeightColumnName),
            $"Example weight column '{name}' is {actual}, but it must be a float (Single) column, as ML.NET's trainers take weights. " +
            $"Load it as float (e.g. [LoadColumn] on a float property) or convert it: mlContext.Transforms.Conversion.ConvertType(\"{name}\", outputKind: DataKind.Single).");

    private static string Describe(SchemaShape.Column column) =>
        $"{column.Kind} of {(column.IsKey ? "Key<" + column.ItemType + ">" : column.ItemType.ToString())}";
}
