using System.Text;

namespace Microsoft.ML.Lorenza.Training;

/// <summary>One labelled example: a text, an optional second text (sentence pairs), a label.</summary>
public sealed record TextExample(string Text, string? TextPair, string Label);

/// <summary>Which columns of a delimited file hold what. Columns are names (with a header) or 0-based indexes.</summary>
public sealed record ColumnSpec(string Text, string Label, string? TextPair = null, bool? HasHeader = null, char? Separator = null);

/// <summary>
/// Examples read from a TSV/CSV file. The separator is detected from the first line (tab, then comma,
/// semicolon, pipe) unless given; CSV fields may be quoted (RFC 4180: "" inside quotes is a quote; a
/// quoted field may hold separators but not line breaks). Rows whose text is empty or whitespace are
/// SKIPPED and counted in <see cref="SkippedEmpty"/>; a row with too few fields is an error naming its line.
/// </summary>
public sealed class TextDataset
{
    private TextDataset(string source, List<TextExample> examples, int skippedEmpty)
    {
        Source = source;
        Examples = examples;
        SkippedEmpty = skippedEmpty;
    }

    public string Source { get; }
    public IReadOnlyList<TextExample> Examples { get; }
    public int SkippedEmpty { get; }
    public bool HasPairs => Examples.Any(e => e.TextPair is not null);

    public static TextDataset FromExamples(IEnumerable<TextExample> examples, string source = "memory") => new(source, examples.ToList(), 0);

    public static TextDataset Load(string path, ColumnSpec columns)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Data file not found: {path}", path);
        var lines = File.ReadLines(path, Encoding.UTF8).GetEnumerator();
        if (!lines.MoveNext() || string.IsNullOrWhiteSpace(lines.Current))
            throw new InvalidDataException($"{path} is empty: it needs a header (or data) line and at least one example.");
        var first = lines.Current;
        var separator = columns.Separator ?? DetectSeparator(first);
        var firstFields = Split(first, separator, path, 1);
        var hasHeader = columns.HasHeader ?? LooksLikeHeader(firstFields, columns);
        var names = hasHeader ? firstFields : Enumerable.Range(0, firstFields.Count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();

        int Column(string spec, string role)
        {
            var byName = names.FindIndex(n => string.Equals(n.Trim(), spec, StringComparison.OrdinalIgnoreCase));
            if (byName >= 0) return byName;
            if (int.TryParse(spec, out var index) && index >= 0 && index < names.Count) return index;
            throw new ArgumentException($"{path}: no {role} column '{spec}'. Available columns: {string.Join(", ", names.Select((n, i) => hasHeader ? $"'{n.Trim()}' ({i})" : $"{i}"))}.");
        }
        var textColumn = Column(columns.Text, "text");
        var labelColumn = Column(columns.Label, "label");
        var pairColumn = columns.TextPair is null ? -1 : Column(columns.TextPair, "second text");
        var needed = new[] { textColumn, labelColumn, pairColumn }.Max() + 1;

        var examples = new List<TextExample>();
        var skipped = 0;
        IEnumerable<(string Line, int Number)> Rows()
        {
            var number = 1;
            if (!hasHeader) yield return (first, number);
            while (lines.MoveNext()) yield return (lines.Current, ++number);
        }
        foreach (var (line, lineNumber) in Rows())
        {
            if (line.Length == 0) continue;
            var fields = Split(line, separator, path, lineNumber);
            if (fields.Count < needed)
                throw new InvalidDataException($"{path} line {lineNumber}: {fields.Count} field(s) separated by {Describe(separator)}, but column {needed - 1} is needed.");
            var text = fields[textColumn].Trim();
            var pair = pairColumn >= 0 ? fields[pairColumn].Trim() : null;
            var label = fields[labelColumn].Trim();
            if (text.Length == 0 || (pair is not null && pair.Length == 0)) { skipped++; continue; }
            if (label.Length == 0) throw new InvalidDataException($"{path} line {lineNumber}: the label is empty.");
            examples.Add(new TextExample(text, pair, label));
        }
        if (examples.Count == 0) throw new InvalidDataException($"{path} has no examples with a non-empty text ({skipped} skipped as empty).");
        return new TextDataset(path, examples, skipped);
    }

    private static string Describe(char c) => c switch { '\t' => "tabs", ',' => "commas", ';' => "semicolons", '|' => "pipes", _ => $"'{c}'" };

    private static char DetectSeparator(string line)
    {
        foreach (var c in new[] { '\t', ',', ';', '|' })
            if (line.Contains(c)) return c;
        return '\t';
    }

    // Columns asked for by name imply a header; columns asked for by index imply none, unless the first
    // line names them anyway.
    private static bool LooksLikeHeader(List<string> fields, ColumnSpec columns) =>
        fields.Any(f => string.Equals(f.Trim(), columns.Text, StringComparison.OrdinalIgnoreCase) || string.Equals(f.Trim(), columns.Label, StringComparison.OrdinalIgnoreCase))
        || !(int.TryParse(columns.Text, out _) && int.TryParse(columns.Label, out _));

    internal static List<string> Split(string line, char separator, string path, int lineNumber)
    {
        var fields = new List<string>();
        if (separator == '\t')
        {
            fields.AddRange(line.Split('\t'));
            return fields;
        }
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"' && field.Length == 0) quoted = true;
            else if (c == separator) { fields.Add(field.ToString()); field.Clear(); }
            else field.Append(c);
        }
        if (quoted) throw new InvalidDataException($"{path} line {lineNumber}: a quoted field is not closed (fields may not span lines).");
        fields.Add(field.ToString());
        return fields;
    }
}
