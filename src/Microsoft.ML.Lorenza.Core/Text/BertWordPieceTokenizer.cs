using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.Tokenizers;

namespace Microsoft.ML.Lorenza.Text;

/// <summary>
/// BERT's WordPiece tokenizer from a Hugging Face vocab.txt (+ tokenizer_config.json), with Hugging Face
/// BertTokenizer's semantics: special-token literals in the text ("[UNK]", "[SEP]", …, case-sensitive) map to their
/// ids; the rest goes through <see cref="BertBasicTokenizer"/> (cleaning, CJK, lowercasing and accent stripping for
/// uncased vocabularies, punctuation), then WordPiece — greedy longest match first, "##" on continuation pieces,
/// [UNK] for a word of more than 100 characters or with a piece that matches nothing — done by
/// Microsoft.ML.Tokenizers' <see cref="BertTokenizer"/> one word at a time (its own basic tokenization differs from
/// Hugging Face's; see <see cref="BertBasicTokenizer"/>). A text becomes <c>[CLS] A [SEP]</c> (token types 0), a pair
/// <c>[CLS] A [SEP] B [SEP]</c> (types 0 up to the first [SEP], 1 after). Thread-safe.
/// </summary>
public sealed class BertWordPieceTokenizer : ITextTokenizer
{
    public const string VocabFile = "vocab.txt";
    public const string ConfigFile = "tokenizer_config.json";
    /// <summary>Words longer than this many characters (code points) become [UNK], as in Hugging Face.</summary>
    public const int MaxWordCharacters = 100;

    private static readonly string[] SpecialTokens = ["[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]"];

    private readonly BertTokenizer wordPiece;
    private readonly string[] idToToken;
    private readonly Dictionary<string, int> vocab;

    private BertWordPieceTokenizer(string[] tokens, bool lowerCase, bool? stripAccents, bool splitCjk, int? modelMaxLength, string source)
    {
        idToToken = tokens;
        vocab = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (var id = 0; id < tokens.Length; id++) vocab[tokens[id]] = id; // a repeated line: the last one wins, as in Hugging Face
        var missing = SpecialTokens.Where(t => !vocab.ContainsKey(t)).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"{source}: the vocabulary lacks the special token(s) {string.Join(" ", missing)} that BERT needs.");
        LowerCase = lowerCase;
        StripAccents = stripAccents ?? lowerCase; // Hugging Face: strip_accents unset follows do_lower_case
        SplitCjk = splitCjk;
        ModelMaxLength = modelMaxLength;
        (ClsId, SepId, PadId, MaskId, UnkId) = (vocab["[CLS]"], vocab["[SEP]"], vocab["[PAD]"], vocab["[MASK]"], vocab["[UNK]"]);
        // The library sees one already-normalized word at a time: its basic tokenization and special-token matching are off.
        // It refuses repeated lines, which Hugging Face accepts (the last one wins), and reads a lone '\r' as a line end, which
        // would shift every later id. So the library gets, in their place, lines no word can match (words never hold
        // whitespace, and placeholders do, so they cannot repeat a token): earlier copies of a repeated token, and tokens
        // that are empty or hold whitespace (found by fuzzing vocab.txt).
        var lines = tokens.Select((t, id) => vocab[t] == id && t.Length > 0 && !t.Any(char.IsWhiteSpace) ? t : $"[line {id} matches no word]");
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n"));
        wordPiece = BertTokenizer.Create(stream, new BertOptions
        {
            LowerCaseBeforeTokenization = false,
            ApplyBasicTokenization = false,
            SplitOnSpecialTokens = false,
            IndividuallyTokenizeCjk = false,
            RemoveNonSpacingMarks = false,
            // Words over MaxWordCharacters code points never reach the library; 2 UTF-16 units per code point at most.
            MaxInputCharsPerWord = 2 * MaxWordCharacters,
        });
    }

    public int ClsId { get; }
    public int SepId { get; }
    public int PadId { get; }
    public int MaskId { get; }
    public int UnkId { get; }

    /// <summary>Lowercase before WordPiece (tokenizer_config.json do_lower_case; uncased vocabularies).</summary>
    public bool LowerCase { get; }

    /// <summary>Strip accents (NFD, drop Mn): tokenizer_config.json strip_accents, or do_lower_case when it is unset.</summary>
    public bool StripAccents { get; }

    /// <summary>Put each CJK ideograph in a word of its own (tokenize_chinese_chars).</summary>
    public bool SplitCjk { get; }

    /// <summary>tokenizer_config.json model_max_length, when known (written back by <see cref="SaveTo"/>).</summary>
    public int? ModelMaxLength { get; }

    public string Kind => "wordpiece";

    public int VocabSize => idToToken.Length;

    public IReadOnlyList<string> FileNames { get; } = [VocabFile, ConfigFile];

    /// <summary>The token of an id.</summary>
    public string TokenOf(int id) => idToToken[id];

    /// <summary>True when <paramref name="folder"/> holds a vocab.txt.</summary>
    public static bool IsIn(string folder) => File.Exists(Path.Combine(folder, VocabFile));

    // ---- loading and saving ----

    /// <summary>Reads vocab.txt and, when present, tokenizer_config.json (do_lower_case defaults to true).</summary>
    public static BertWordPieceTokenizer FromFolder(string folder)
    {
        var vocabPath = Path.Combine(folder, VocabFile);
        if (!File.Exists(vocabPath))
            throw new FileNotFoundException($"No {VocabFile} in {folder}: a BERT model folder needs its WordPiece vocabulary (vocab.txt, one token per line); copy it from the model's Hugging Face folder.", vocabPath);
        var tokens = ReadVocabulary(vocabPath);
        var configPath = Path.Combine(folder, ConfigFile);
        var config = File.Exists(configPath) ? ReadConfig(configPath) : new JsonObject();
        bool? Flag(string key) => config[key] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : null;
        int? maxLength = config["model_max_length"] is JsonValue m && m.TryGetValue<double>(out var d) && d is >= 1 and <= int.MaxValue ? (int)d : null;
        return new BertWordPieceTokenizer(tokens, Flag("do_lower_case") ?? true, Flag("strip_accents"), Flag("tokenize_chinese_chars") ?? true, maxLength, vocabPath);
    }

    /// <summary>A tokenizer with every setting given (tokenizer.json's BertNormalizer).</summary>
    internal static BertWordPieceTokenizer FromSettings(IReadOnlyList<string> tokens, bool lowerCase, bool? stripAccents, bool splitCjk, string source) =>
        new([.. tokens], lowerCase, stripAccents, splitCjk, null, source);

    /// <summary>A tokenizer over an in-memory vocabulary (id = index), e.g. for tests and tiny models.</summary>
    public static BertWordPieceTokenizer FromVocabulary(IReadOnlyList<string> tokens, bool lowerCase = true, int? modelMaxLength = null)
    {
        if (tokens.Count == 0) throw new ArgumentException("The vocabulary is empty.", nameof(tokens));
        return new BertWordPieceTokenizer([.. tokens], lowerCase, null, true, modelMaxLength, "in-memory vocabulary");
    }

    // One token per line; Windows line ends are trimmed (some vocab.txt files have them).
    private static string[] ReadVocabulary(string path)
    {
        var text = File.ReadAllText(path, Encoding.UTF8);
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        if (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        if (lines.Count == 0) throw new InvalidDataException($"{path} holds no tokens.");
        return [.. lines];
    }

    private static JsonObject ReadConfig(string path) => JsonFile.ReadObject(path, "fix or delete it (do_lower_case then defaults to true)");

    /// <summary>Writes vocab.txt and tokenizer_config.json (loadable here and by transformers' AutoTokenizer).</summary>
    public void SaveTo(string folder)
    {
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(Path.Combine(folder, VocabFile), string.Concat(idToToken.Select(t => t + "\n")));
        var config = new JsonObject
        {
            ["tokenizer_class"] = "BertTokenizer",
            ["do_lower_case"] = LowerCase,
            ["strip_accents"] = StripAccents == LowerCase ? null : StripAccents,
            ["tokenize_chinese_chars"] = SplitCjk,
            ["cls_token"] = "[CLS]", ["sep_token"] = "[SEP]", ["pad_token"] = "[PAD]", ["mask_token"] = "[MASK]", ["unk_token"] = "[UNK]",
        };
        if (ModelMaxLength is { } max) config["model_max_length"] = max;
        AtomicFile.WriteAllText(Path.Combine(folder, ConfigFile), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    // ---- encoding ----

    /// <summary>WordPiece ids of <paramref name="text"/>, no [CLS]/[SEP] added.</summary>
    public int[] Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        foreach (var (chunk, specialId) in SplitOnSpecialTokens(text))
        {
            if (specialId >= 0) { ids.Add(specialId); continue; }
            foreach (var word in BertBasicTokenizer.Split(chunk, LowerCase, StripAccents, SplitCjk))
            {
                if (word.EnumerateRunes().Count() > MaxWordCharacters) ids.Add(UnkId);
                else ids.AddRange(wordPiece.EncodeToIds(word, addSpecialTokens: false, considerPreTokenization: false, considerNormalization: false));
            }
        }
        return [.. ids];
    }

    /// <summary>The tokens of <paramref name="text"/> (no [CLS]/[SEP]), e.g. "un", "##aff", "##able".</summary>
    public string[] TokenStrings(string text) => Tokenize(text).Select(id => idToToken[id]).ToArray();

    /// <summary>[CLS] text [SEP], truncated to <paramref name="maxLength"/> ids (specials included) when given.</summary>
    public int[] Encode(string text, int? maxLength = null) => EncodeSequence(text, null, maxLength).Ids;

    /// <summary>
    /// [CLS] a [SEP] b [SEP] with token types, truncated to <paramref name="maxLength"/> as Hugging Face's longest_first:
    /// one token at a time from the end of the longer side, from the second text when both are as long.
    /// </summary>
    public EncodedText EncodePair(string a, string b, int? maxLength = null) => EncodeSequence(a, b, maxLength);

    public EncodedText EncodeSequence(string text, string? pair, int? maxLength)
    {
        var first = Tokenize(text);
        if (pair is null)
        {
            if (maxLength is { } max)
            {
                CheckMaxLength(max, 2);
                if (first.Length > max - 2) first = first[..(max - 2)];
            }
            int[] ids = [ClsId, .. first, SepId];
            return new EncodedText(ids, new int[ids.Length]);
        }
        var second = Tokenize(pair);
        if (maxLength is { } limit)
        {
            CheckMaxLength(limit, 3);
            int keepFirst = first.Length, keepSecond = second.Length;
            while (keepFirst + keepSecond > limit - 3)
            {
                if (keepFirst > keepSecond) keepFirst--; else keepSecond--;
            }
            (first, second) = (first[..keepFirst], second[..keepSecond]);
        }
        int[] pairIds = [ClsId, .. first, SepId, .. second, SepId];
        var types = new int[pairIds.Length];
        Array.Fill(types, 1, first.Length + 2, second.Length + 1);
        return new EncodedText(pairIds, types);
    }

    private static void CheckMaxLength(int max, int specials)
    {
        if (max < specials + 1)
            throw new ArgumentOutOfRangeException(nameof(max), max, $"A maximum length of {max} cannot hold the {specials} special tokens and any text; use at least {specials + 1}.");
    }

    /// <summary>Encodes many texts (or pairs) and pads them into one batch (right padding with [PAD], attention mask, token types).</summary>
    public EncodedBatch EncodeBatch(IReadOnlyList<string> texts, IReadOnlyList<string?>? pairs, int maxLength)
    {
        if (pairs is not null && pairs.Count != texts.Count)
            throw new ArgumentException($"{texts.Count} texts but {pairs.Count} second texts; give one per text.", nameof(pairs));
        var rows = new EncodedText[texts.Count];
        for (var k = 0; k < texts.Count; k++) rows[k] = EncodeSequence(texts[k], pairs?[k], maxLength);
        return EncodedBatch.Pad(rows, PadId);
    }

    // Special-token literals (case-sensitive), wherever they occur, as Hugging Face's added-token split does.
    private IEnumerable<(string Chunk, int SpecialId)> SplitOnSpecialTokens(string text)
    {
        var start = 0;
        for (var i = text.IndexOf('['); i >= 0 && i < text.Length; i = text.IndexOf('[', i))
        {
            var match = SpecialTokens.FirstOrDefault(t => string.CompareOrdinal(text, i, t, 0, t.Length) == 0);
            if (match is null) { i++; continue; }
            if (i > start) yield return (text[start..i], -1);
            yield return (match, vocab[match]);
            start = i += match.Length;
        }
        if (start < text.Length) yield return (text[start..], -1);
    }
}
