using System.Globalization;
using Microsoft.ML.Lorenza.Training;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Datasets;

/// <summary>
/// Checks that refuse data which would train silently wrong: a header guessed from data, a column used
/// twice, labels that are measurements rather than classes, lengths beyond the model's position table.
/// Each failure is one line naming the bad value and the fix.
/// </summary>
public static class DataChecks
{
    /// <summary>Distinct numeric labels above this count look continuous when one is fractional, one row in two has its own, or there are over 100.</summary>
    public const int ContinuousDistinctValues = 10;

    /// <summary>The longest sequence a preset may be built for (RoBERTa's position table).</summary>
    public const int PresetMaxSequenceLength = 512;

    internal static bool IsIndex(string spec) => int.TryParse(spec, NumberStyles.None, CultureInfo.InvariantCulture, out _);

    /// <summary>
    /// With columns given by index, whether the first row is a header: only if it cannot be data, that is
    /// its label is the label of no other row while the other rows repeat their labels. Returns the
    /// decision and the one line that says so.
    /// </summary>
    internal static (bool HasHeader, string Note) FirstRowIsHeader(string path, IReadOnlyList<List<string>> rows, int labelColumn)
    {
        string? Label(List<string> row) => labelColumn < row.Count ? row[labelColumn].Trim() : null;
        var first = Label(rows[0]);
        var others = rows.Skip(1).Select(Label).Where(l => l is not null).ToList();
        var repeated = others.Distinct(StringComparer.Ordinal).Count() < others.Count;
        var header = first is not null && repeated && !others.Contains(first, StringComparer.Ordinal);
        return header
            ? (true, $"{path}: columns by index; line 1 read as a header (its label field '{first}' is the label of no other row); pass --has-header false if it is data.")
            : (false, $"{path}: columns by index; line 1 read as data (no header); pass --has-header true if it is a header.");
    }

    internal static void DistinctColumns(string path, (string Role, string Spec, int Index)[] used, IReadOnlyList<string> names)
    {
        for (var i = 0; i < used.Length; i++)
            for (var j = i + 1; j < used.Length; j++)
                if (used[i].Index >= 0 && used[i].Index == used[j].Index)
                    throw new ArgumentException($"{path}: the {used[i].Role} column '{used[i].Spec}' and the {used[j].Role} column '{used[j].Spec}' are the same column " +
                                                $"({used[i].Index}, '{names[used[i].Index].Trim()}'): the model would read its answer from its input; choose different columns.");
    }

    internal static void UniqueHeaderName(string path, string spec, string role, IReadOnlyList<string> names)
    {
        var matches = names.Select((n, i) => (n, i)).Where(p => string.Equals(p.n.Trim(), spec, StringComparison.OrdinalIgnoreCase)).Select(p => p.i).ToList();
        if (matches.Count > 1)
            throw new InvalidDataException($"{path}: the header names {matches.Count} columns '{spec}' (columns {string.Join(", ", matches)}), which is the {role} column; " +
                                           "rename them in the header, or give the column by its 0-based index.");
    }

    /// <summary>
    /// Refuses labels that look like a continuous target (many distinct numbers): a classifier would make each
    /// value its own class. <paramref name="labelsAreClasses"/> (CLI --labels-are-classes) overrides.
    /// </summary>
    public static void LabelsLookLikeClasses(TextDataset data, bool labelsAreClasses)
    {
        if (labelsAreClasses) return;
        var distinct = data.Examples.Select(e => e.Label).Distinct(StringComparer.Ordinal).ToList();
        if (distinct.Count <= ContinuousDistinctValues) return;
        var numbers = new List<double>();
        foreach (var label in distinct)
        {
            if (!double.TryParse(label, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)) return;
            numbers.Add(value);
        }
        // Fractions are measurements; whole numbers are, when most rows have their own value (ids) or there are very many.
        var fractional = numbers.Any(v => v != Math.Floor(v));
        if (!fractional && distinct.Count * 2 <= data.Examples.Count && distinct.Count <= 100) return;
        var examples = string.Join(", ", distinct.Take(3));
        throw new InvalidDataException($"{data.Source}: the label column has {distinct.Count} distinct numeric values ({examples}, …), which looks like a continuous target, " +
                                       "not classes; pass --labels-are-classes (LabelsAreClasses) to make each value a class, or bin the values first.");
    }

    /// <summary>Refuses a sequence length the model's position table cannot hold (instead of truncating silently).</summary>
    public static void MaxSequenceLength(int requested, int positions, string model)
    {
        if (requested > positions)
            throw new ArgumentOutOfRangeException(nameof(DataOptions.MaxSequenceLength), requested,
                $"MaxSequenceLength (--max-length) = {requested} exceeds the {positions} positions of {model}; use --max-length {positions} or less.");
    }
}
