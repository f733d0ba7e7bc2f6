using System.Text;

namespace Microsoft.ML.Lorenza.Datasets;

/// <summary>
/// One labelled example: a text, an optional second text (sentence pairs), a label, and its weight in the training loss
/// (1 unless a weight column gives one; a finite number >= 0, see <see cref="ExampleWeights"/>).
/// </summary>
public sealed record TextExample(string Text, string? TextPair, string Label, float Weight = 1f);

/// <summary>
/// Which columns of a delimited file hold what. Columns are names (with a header) or 0-based indexes. <paramref name="Weight"/>:
/// a column of example weights (null: every row weighs 1).
/// </summary>
public sealed record ColumnSpec(string Text, string Label, string? TextPair = null, bool? HasHeader = null, char? Separator = null, string? Weight = null);

/// <summary>
/// Examples read from a TSV/CSV file. The separator is detected from the first line (tab, then comma,
/// semicolon, pipe) unless given; CSV fields may be quoted (RFC 4180: "" inside quotes is a quote; a
/// quoted field may hold separators but not line breaks). Rows whose text is empty or whitespace are
/// SKIPPED and counted in <see cref="SkippedEmpty"/>; a row with too few fields is an error naming its line.
/// </summary>
public sealed class TextDataset
{
    private TextDataset(string source, List<TextExample> examples, int skippedEmpty, IReadOnlyList<string>? notes = null)
    {
        Source = source;
        Examples = examples;
        SkippedEmpty = skippedEmpty;
        Notes = notes ?? [];
    }

    public string Source { get; }
    public IReadOnlyList<TextExample> Examples { get; }
    public int SkippedEmpty { get; }
    /// <summary>Decisions made while reading that the user should see (e.g. whether line 1 was read as a header).</summary>
    public IReadOnlyList<string> Notes { get; }
    public bool HasPairs => Examples.Any(e => e.TextPair is not null);

    public static TextDataset FromExamples(IEnumerable<TextExample> examples, string source = "memory") => new(source, examples.ToList(), 0);

    public static TextDataset Load(string path, ColumnSpec columns)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Data file not found: {path}", path);
        var lines = TextLines.Read(path).Where(l => l.Line.Length > 0).ToList();
        if (lines.Count == 0 || string.IsNullOrWhiteSpace(lines[0].Line))
            throw new InvalidDataException($"{path} is empty: it needs a header (or data) line and at least one example.");
        var separator = columns.Separator ?? DetectSeparator(lines[0].Line);
        var rows = lines.Select(l => Split(l.Line, separator, path, l.Number)).ToList();
        var firstFields = rows[0];
        var notes = new List<string>();
        var byIndex = DataChecks.IsIndex(columns.Text) && DataChecks.IsIndex(columns.Label) && (columns.TextPair is null || DataChecks.IsIndex(columns.TextPair));
        bool hasHeader;
        if (columns.HasHeader is { } given) hasHeader = given;
        else if (!byIndex) hasHeader = true; // columns by name: line 1 names them
        else
        {
            var (header, note) = DataChecks.FirstRowIsHeader(path, rows, int.Parse(columns.Label, System.Globalization.CultureInfo.InvariantCulture));
            hasHeader = header;
            notes.Add(note);
        }
        var names = hasHeader ? firstFields : Enumerable.Range(0, firstFields.Count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();

        int Column(string spec, string role)
        {
            // An index given while all columns are given by index is an index, whatever the header says.
            if (byIndex && int.TryParse(spec, out var position) && position < names.Count) return position;
            DataChecks.UniqueHeaderName(path, spec, role, names);
            var byName = names.FindIndex(n => string.Equals(n.Trim(), spec, StringComparison.OrdinalIgnoreCase));
            if (byName >= 0) return byName;
            if (int.TryParse(spec, out var index) && index >= 0 && index < names.Count) return index;
            throw new ArgumentException($"{path}: no {role} column '{spec}'. Available columns: {string.Join(", ", names.Select((n, i) => hasHeader ? $"'{n.Trim()}' ({i})" : $"{i}"))}.");
        }
        var textColumn = Column(columns.Text, "text");
        var labelColumn = Column(columns.Label, "label");
        var pairColumn = columns.TextPair is null ? -1 : Column(columns.TextPair, "second text");
        var weightColumn = columns.Weight is null ? -1 : Column(columns.Weight, "weight");
        DataChecks.DistinctColumns(path, [("text", columns.Text, textColumn), ("label", columns.Label, labelColumn), ("second text", columns.TextPair ?? "", pairColumn),
            ("weight", columns.Weight ?? "", weightColumn)], names);
        var needed = new[] { textColumn, labelColumn, pairColumn, weightColumn }.Max() + 1;

        var examples = new List<TextExample>();
        var skipped = 0;
        for (var row = hasHeader ? 1 : 0; row < rows.Count; row++)
        {
            var (fields, lineNumber) = (rows[row], lines[row].Number);
            if (fields.Count < needed)
                throw new InvalidDataException($"{path} line {lineNumber}: {fields.Count} field(s) separated by {Describe(separator)}, but column {needed - 1} is needed.");
            var text = fields[textColumn].Trim();
            var pair = pairColumn >= 0 ? fields[pairColumn].Trim() : null;
            var label = fields[labelColumn].Trim();
            if (text.Length == 0 || (pair is not null && pair.Length == 0)) { skipped++; continue; }
            if (label.Length == 0) throw new InvalidDataException($"{path} line {lineNumber}: the label is empty.");
            var weight = weightColumn < 0 ? 1f : ExampleWeights.Parse(fields[weightColumn], $"{path} line {lineNumber}", columns.Weight!);
            examples.Add(new TextExample(text, pair, label, weight));
        }
        if (examples.Count == 0) throw new InvalidDataException($"{path} has no examples with a non-empty text ({skipped} skipped as empty).");
        if (columns.Weight is { } weights) ExampleWeights.NotAllZero(examples, path, $"column '{weights}'");
        return new TextDataset(path, examples, skipped, notes);
    }

    private static string Describe(char c) => c switch { '\t' => "tabs", ',' => "commas", ';' => "semicolons", '|' => "pipes", _ => $"'{c}'" };

    private static char DetectSeparator(string line)
    {
        foreach (var c in new[] { '\t', ',', ';', '|' })
            if (line.Contains(c)) return c;
        return '\t';
    }

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
