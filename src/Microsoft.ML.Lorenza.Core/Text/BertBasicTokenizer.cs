using System.Globalization;
using System.Text;

namespace Microsoft.ML.Lorenza.Text;

/// <summary>
/// Hugging Face BERT's basic tokenization, before WordPiece: clean the text (drop U+0000, U+FFFD and control
/// characters — Unicode category C* except tab, newline, carriage return; those three and category Zs become
/// spaces; U+2028 and U+2029 separate words too), put every CJK ideograph in a word of its own, split on whitespace, then per word lowercase (full
/// Unicode lowercasing as Python's str.lower: final sigma, İ → i̇), strip accents (NFD, drop Mn) and split
/// before and after every punctuation character (ASCII 33–47, 58–64, 91–96, 123–126 — so $ + &lt; = &gt; ^ ` | ~
/// too — or category P*). Works on code points, so characters outside the BMP are single characters. This is
/// transformers' BertTokenizer (the Python one); its Rust "fast" twin lowercases character by character and so keeps
/// σ where this writes the final ς.
/// </summary>
/// <remarks>
/// Microsoft.ML.Tokenizers' BertTokenizer (2.0.1 and 3.0.0 alike) does this step differently on ordinary input (measured on the
/// all-MiniLM-L6-v2 vocabulary; see WordPieceTokenizerTests): its pre-tokenizer (<c>\w+|[\p{P}]</c>) drops
/// symbols, emoji, superscripts and characters outside the BMP entirely ("a = b", "$5", "x²", "😀"); it deletes
/// tab, newline and carriage return instead of treating them as spaces, joining the words around them; it keeps
/// Hangul syllables composed; it splits at U+200B instead of deleting it; it matches "[unk]" as the special token
/// [UNK]; it lowercases Σ to σ at the end of a word. So <see cref="BertWordPieceTokenizer"/> runs this class and
/// hands the library one word at a time, for its WordPiece step only.
/// </remarks>
public static class BertBasicTokenizer
{
    /// <summary>The words of <paramref name="text"/> (no special-token handling).</summary>
    public static List<string> Split(string text, bool lowerCase, bool stripAccents, bool splitCjk = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var words = new List<string>();
        var current = new StringBuilder();
        void Flush()
        {
            if (current.Length == 0) return;
            SplitWord(current.ToString(), lowerCase, stripAccents, words);
            current.Clear();
        }
        foreach (var rune in text.EnumerateRunes())
        {
            var cp = rune.Value;
            if (cp == 0 || cp == 0xFFFD || IsControl(rune)) continue;
            if (IsWhitespace(rune)) { Flush(); continue; }
            if (splitCjk && IsCjk(cp))
            {
                Flush();
                current.Append(rune.ToString());
                Flush();
                continue;
            }
            current.Append(rune.ToString());
        }
        Flush();
        return words;
    }

    private static void SplitWord(string word, bool lowerCase, bool stripAccents, List<string> words)
    {
        if (lowerCase) word = LowerCase(word);
        if (stripAccents) word = StripAccents(word);
        var piece = new StringBuilder();
        foreach (var rune in word.EnumerateRunes())
        {
            if (IsPunctuation(rune))
            {
                if (piece.Length > 0) words.Add(piece.ToString());
                words.Add(rune.ToString());
                piece.Clear();
            }
            else piece.Append(rune.ToString());
        }
        if (piece.Length > 0) words.Add(piece.ToString());
    }

    /// <summary>What separates words: space, tab, newline, carriage return and category Zs (which cleaning turns into
    /// spaces), and the line and paragraph separators U+2028/U+2029, which Python's str.split() splits at too.</summary>
    public static bool IsWhitespace(Rune r) =>
        r.Value is ' ' or '\t' or '\n' or '\r' || Rune.GetUnicodeCategory(r) is UnicodeCategory.SpaceSeparator
            or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    public static bool IsControl(Rune r) => r.Value is not ('\t' or '\n' or '\r') && Rune.GetUnicodeCategory(r) is
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned;

    public static bool IsPunctuation(Rune r)
    {
        var cp = r.Value;
        if (cp is >= 33 and <= 47 or >= 58 and <= 64 or >= 91 and <= 96 or >= 123 and <= 126) return true;
        return Rune.GetUnicodeCategory(r) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }

    /// <summary>CJK Unified Ideographs and their extensions A–E, and the compatibility ideographs (not kana, not Hangul).</summary>
    public static bool IsCjk(int cp) =>
        cp is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF or >= 0x2A700 and <= 0x2B73F
            or >= 0x2B740 and <= 0x2B81F or >= 0x2B820 and <= 0x2CEAF or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;

    /// <summary>NFD, then every non-spacing mark (Mn) removed.</summary>
    public static string StripAccents(string word)
    {
        var decomposed = word.Normalize(NormalizationForm.FormD);
        var result = new StringBuilder(decomposed.Length);
        foreach (var rune in decomposed.EnumerateRunes())
            if (Rune.GetUnicodeCategory(rune) != UnicodeCategory.NonSpacingMark) result.Append(rune.ToString());
        return result.ToString();
    }

    /// <summary>
    /// Full lowercasing as Python's str.lower(): per code point (outside the BMP too), İ (U+0130) becomes i + U+0307,
    /// and Σ becomes final ς after a cased letter when no cased letter follows (case-ignorable characters skipped).
    /// </summary>
    public static string LowerCase(string word)
    {
        var runes = word.EnumerateRunes().ToArray();
        var result = new StringBuilder(word.Length);
        for (var i = 0; i < runes.Length; i++)
        {
            var r = runes[i];
            if (r.Value == 0x0130) result.Append("i\u0307");
            else if (r.Value == 0x03A3) result.Append(IsFinalSigma(runes, i) ? 'ς' : 'σ');
            else result.Append(Rune.ToLowerInvariant(r).ToString());
        }
        return result.ToString();
    }

    private static bool IsFinalSigma(Rune[] runes, int i)
    {
        var before = i - 1;
        while (before >= 0 && IsCaseIgnorable(runes[before])) before--;
        if (before < 0 || !IsCased(runes[before])) return false;
        var after = i + 1;
        while (after < runes.Length && IsCaseIgnorable(runes[after])) after++;
        return after == runes.Length || !IsCased(runes[after]);
    }

    private static bool IsCased(Rune r) => Rune.GetUnicodeCategory(r) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter;

    // Unicode's Case_Ignorable: Mn, Me, Cf, Lm, Sk, and the word-internal punctuation (apostrophes, periods, colons, middle dots).
    private static bool IsCaseIgnorable(Rune r) =>
        r.Value is '\'' or '.' or ':' or '^' or '`' or 0x00B7 or 0x2018 or 0x2019 or 0x2024 or 0xFE13 or 0xFE52 or 0xFE55 or 0xFF07 or 0xFF0E or 0xFF1A
        || Rune.GetUnicodeCategory(r) is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format
            or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol;
}
