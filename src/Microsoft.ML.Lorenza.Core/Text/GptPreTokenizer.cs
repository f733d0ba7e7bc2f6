using System.Globalization;
using System.Text;

namespace Microsoft.ML.Lorenza.Text;

/// <summary>
/// GPT-2's pre-tokenization pattern, written as a linear-time scanner instead of a regex:
/// <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>.
/// Alternatives are tried in that order at each position, exactly as the regex engine does; the
/// look-ahead of <c>\s+(?!\S)</c> gives back the last whitespace character of a run that is followed by
/// a non-space, so it can lead the next word. No backtracking beyond that one character, so long
/// runs of whitespace or a megabyte-long word stay linear.
/// </summary>
internal static class GptPreTokenizer
{
    private enum Kind { Letter, Number, Space, Other }

    private static readonly string[] Contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];
    private static readonly Kind[] WordClasses = [Kind.Letter, Kind.Number, Kind.Other];

    private static Kind Classify(Rune r)
    {
        if (Rune.IsWhiteSpace(r)) return Kind.Space;
        return Rune.GetUnicodeCategory(r) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Kind.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Kind.Number,
            _ => Kind.Other,
        };
    }

    // A lone surrogate decodes as U+FFFD (class Other), one UTF-16 unit wide.
    private static Kind KindAt(string s, int i)
    {
        var c = s[i];
        if (c < 128)
            return c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') ? Kind.Letter
                : c is >= '0' and <= '9' ? Kind.Number
                : c is ' ' or (>= '\t' and <= '\r') ? Kind.Space
                : Kind.Other;
        Rune.DecodeFromUtf16(s.AsSpan(i), out var rune, out _);
        return Classify(rune);
    }

    private static int Width(string s, int i)
    {
        if (!char.IsSurrogate(s[i])) return 1;
        Rune.DecodeFromUtf16(s.AsSpan(i), out _, out var consumed);
        return Math.Max(1, consumed);
    }

    /// <summary>Splits <paramref name="text"/> into pre-tokens (as (start, length) in UTF-16 units).</summary>
    public static IEnumerable<(int Start, int Length)> Split(string text)
    {
        var i = 0;
        while (i < text.Length)
        {
            var length = Match(text, i);
            yield return (i, length);
            i += length;
        }
    }

    private static int Match(string s, int i)
    {
        if (s[i] == '\'')
            foreach (var c in Contractions)
                if (string.CompareOrdinal(s, i, c, 0, c.Length) == 0) return c.Length;

        // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+" (without the space the class could not match
        // at a space anyway, so only the with-space form needs trying when s[i] is a space)
        var afterSpace = s[i] == ' ' && i + 1 < s.Length ? i + 1 : i;
        foreach (var wanted in WordClasses)
        {
            var j = afterSpace;
            while (j < s.Length && KindAt(s, j) == wanted) j += Width(s, j);
            if (j > afterSpace) return j - i;
        }

        // "\s+(?!\S)" then "\s+": a whitespace run, minus its last character when a non-space follows.
        var end = i;
        var last = i;
        while (end < s.Length && KindAt(s, end) == Kind.Space)
        {
            last = end;
            end += Width(s, end);
        }
        if (end > i)
        {
            if (end == s.Length) return end - i;
            return last > i ? last - i : end - i;
        }
        return Width(s, i); // unreachable for valid text: every character has a class
    }
}
