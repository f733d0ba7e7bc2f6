namespace Microsoft.ML.Lorenza;

/// <summary>Text from a file, a server or a parser made fit for a one-line message.</summary>
internal static class OneLine
{
    /// <summary>A name from outside, quoted in a refusal: its first 200 characters, control characters as '?'.</summary>
    public static string Printable(string text) => new(text.Take(200).Select(c => char.IsControl(c) ? '?' : c).ToArray());

    /// <summary>A whole message (a parser's, or one quoting names from a file): line breaks and other control characters as escapes.</summary>
    public static string Escape(string text)
    {
        if (!text.Any(char.IsControl)) return text;
        var line = new System.Text.StringBuilder(text.Length + 8);
        foreach (var c in text)
            line.Append(c switch { '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", _ when char.IsControl(c) => $"\\u{(int)c:x4}", _ => c.ToString() });
        return line.ToString();
    }
}
