namespace Microsoft.ML.Lorenza;

/// <summary>Text from a file or a parser made fit for a one-line message: line breaks and other control characters as escapes.</summary>
internal static class OneLine
{
    public static string Escape(string text)
    {
        if (!text.Any(char.IsControl)) return text;
        var line = new System.Text.StringBuilder(text.Length + 8);
        foreach (var c in text)
            line.Append(c switch { '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", _ when char.IsControl(c) => $"\\u{(int)c:x4}", _ => c.ToString() });
        return line.ToString();
    }
}
