using System.Globalization;

namespace Microsoft.ML.Lorenza.Datasets;

/// <summary>
/// The checks on example weights, made before anything is trained: each weight a finite number >= 0 and not all of them 0.
/// Each failure is one line naming the value, where it is and the fix. (ML.NET's own trainers skip rows with a bad weight
/// silently; LORENZA refuses them, so a broken weight column cannot train a different model unnoticed.)
/// </summary>
public static class ExampleWeights
{
    private const string Fix = "weights must be finite numbers >= 0 (e.g. 1 or 0.5); fix the value or drop the row";

    /// <summary>A weight field of a data file; <paramref name="where"/> names the file and line.</summary>
    public static float Parse(string field, string where, string column)
    {
        var text = field.Trim();
        if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var weight))
            throw new InvalidDataException($"{where}: the weight '{text}' (column '{column}') is not a number; {Fix}.");
        Check(weight, where, $"column '{column}'");
        return weight;
    }

    /// <summary>Refuses a negative, NaN or infinite weight; <paramref name="where"/> names the row, <paramref name="column"/> the column.</summary>
    public static void Check(float weight, string where, string column)
    {
        if (!float.IsFinite(weight))
            throw new InvalidDataException($"{where}: the weight {Format(weight)} ({column}) is not a finite number; {Fix}.");
        if (weight < 0)
            throw new InvalidDataException($"{where}: the weight {Format(weight)} ({column}) is negative; {Fix}.");
    }

    /// <summary>Refuses weights that are all 0: nothing would be learned.</summary>
    public static void NotAllZero(IReadOnlyList<TextExample> examples, string source, string column)
    {
        if (examples.Count > 0 && examples.All(e => e.Weight == 0))
            throw new InvalidDataException($"{source}: every weight ({column}) is 0, so training would learn nothing; give some rows a weight > 0.");
    }

    /// <summary>Every weight of a data set checked (<see cref="Check"/>, then <see cref="NotAllZero"/>), rows numbered from 0.</summary>
    public static void CheckAll(TextDataset data)
    {
        for (var i = 0; i < data.Examples.Count; i++)
            Check(data.Examples[i].Weight, $"{data.Source} row {i}", "TextExample.Weight");
        NotAllZero(data.Examples, data.Source, "TextExample.Weight");
    }

    private static string Format(float weight) => weight.ToString(CultureInfo.InvariantCulture);
}
