namespace Microsoft.ML.Lorenza.Datasets;

/// <summary>Label strings ↔ contiguous class ids, in ordinal sort order (deterministic, independent of row order).</summary>
public sealed class LabelMap
{
    private readonly Dictionary<string, int> ids;

    public LabelMap(IEnumerable<string> names)
    {
        Names = names.ToList();
        ids = Names.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i, StringComparer.Ordinal);
    }

    public IReadOnlyList<string> Names { get; }
    public int Count => Names.Count;

    /// <summary>The labels of a training set; it needs at least two classes.</summary>
    public static LabelMap FromTraining(TextDataset data)
    {
        var names = data.Examples.Select(e => e.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (names.Count < 2)
            throw new InvalidDataException($"{data.Source} has only one class ('{names.Single()}'): a classifier needs examples of at least two labels.");
        return new LabelMap(names);
    }

    /// <summary>
    /// A class list fixed by the caller (e.g. an ML.NET key type: every key value is a class, in key order,
    /// whether or not the training data has examples of it). Names must be distinct; at least two.
    /// </summary>
    public static LabelMap Fixed(IReadOnlyList<string> names)
    {
        if (names.Count < 2)
            throw new ArgumentException($"A classifier needs at least two classes; the label list has {names.Count}.", nameof(names));
        var duplicate = names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"The label list names '{duplicate.Key}' more than once; class names must be distinct.", nameof(names));
        return new LabelMap(names);
    }

    public int IdOf(string label) => ids.TryGetValue(label, out var id) ? id
        : throw new InvalidDataException($"Label '{label}' was not seen in training. Known labels: {string.Join(", ", Names)}.");

    /// <summary>Ids of every example; one error lists all labels unseen in training.</summary>
    public int[] IdsOf(TextDataset data)
    {
        var unseen = data.Examples.Select(e => e.Label).Where(l => !ids.ContainsKey(l)).Distinct().ToList();
        if (unseen.Count > 0)
            throw new InvalidDataException($"{data.Source} has label(s) not seen in training: {string.Join(", ", unseen.Take(20))}. Known labels: {string.Join(", ", Names)}.");
        return data.Examples.Select(e => ids[e.Label]).ToArray();
    }
}
