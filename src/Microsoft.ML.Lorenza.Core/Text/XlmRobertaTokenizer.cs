using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.Tokenizers;

namespace Microsoft.ML.Lorenza.Text;

/// <summary>
/// XLM-RoBERTa's tokenizer with Hugging Face's ids: a SentencePiece Unigram model (sentencepiece.bpe.model — a Unigram
/// model despite the name) with fairseq's id layout: &lt;s&gt;=0, &lt;pad&gt;=1, &lt;/s&gt;=2, &lt;unk&gt;=3, every other
/// piece its SentencePiece id + 1, &lt;mask&gt; = pieces + 1 (last). Special-token literals in the text are split out first
/// (&lt;mask&gt; also takes the whitespace before it, as Hugging Face's lstrip); the rest goes through SentencePiece.
/// A text becomes <c>&lt;s&gt; A &lt;/s&gt;</c>, a pair <c>&lt;s&gt; A &lt;/s&gt;&lt;/s&gt; B &lt;/s&gt;</c>; token types are all 0.
/// </summary>
/// <remarks>
/// The SentencePiece step is Microsoft.ML.Tokenizers' <see cref="SentencePieceTokenizer"/> (its Unigram model:
/// normalization with the model's precompiled charsmap, the dummy prefix, whitespace handling and the Viterbi
/// segmentation), with one thing added here: SentencePiece and Hugging Face fuse a run of unknown characters into one
/// &lt;unk&gt;, while Microsoft.ML.Tokenizers (2.0.1 and 3.0.0) gives one &lt;unk&gt; per character; and the model's charsmap deletes some
/// characters (nmt_nfkc: C0/C1 controls such as U+0007, U+001B, U+007F), which Microsoft.ML.Tokenizers keeps (they
/// become &lt;unk&gt; and split the words around them), so they are removed first (<see cref="PrecompiledCharsmap"/>).
/// Measured on 624 check texts: the library alone agreed on 554 (2.0.1 and 3.0.0 alike), with both fixes on all (XlmRobertaTokenizerTests).
/// <see cref="FromTokenizerJson"/> instead uses the project's own Unigram pipeline, as a tokenizer.json spells it out.
/// </remarks>
public sealed class XlmRobertaTokenizer : ITextTokenizer
{
    public const string ModelFile = "sentencepiece.bpe.model";
    public const string ConfigFile = "tokenizer_config.json";

    public const int BosId = 0, PadIdValue = 1, EosId = 2, UnkId = 3;
    private static readonly string[] SpecialTokens = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"];

    private readonly Func<string, IEnumerable<int>> encodeChunk; // Hugging Face ids of a text without special tokens
    private readonly byte[]? modelBytes;
    private readonly string? tokenizerJson;

    private XlmRobertaTokenizer(Func<string, IEnumerable<int>> encodeChunk, int vocabSize, byte[]? modelBytes, string? tokenizerJson, int? modelMaxLength)
    {
        this.encodeChunk = encodeChunk;
        VocabSize = vocabSize;
        MaskId = vocabSize - 1;
        this.modelBytes = modelBytes;
        this.tokenizerJson = tokenizerJson;
        ModelMaxLength = modelMaxLength;
        FileNames = modelBytes is not null ? [ModelFile, ConfigFile] : [TokenizerJson.FileName];
    }

    public int MaskId { get; }
    public int PadId => PadIdValue;
    public int VocabSize { get; }
    public string Kind => "unigram";
    public IReadOnlyList<string> FileNames { get; }

    /// <summary>tokenizer_config.json model_max_length, when known.</summary>
    public int? ModelMaxLength { get; }

    /// <summary>True when <paramref name="folder"/> holds sentencepiece.bpe.model.</summary>
    public static bool IsIn(string folder) => File.Exists(Path.Combine(folder, ModelFile));

    /// <summary>Reads sentencepiece.bpe.model (and tokenizer_config.json's model_max_length when present).</summary>
    public static XlmRobertaTokenizer FromFolder(string folder)
    {
        var path = Path.Combine(folder, ModelFile);
        if (!File.Exists(path))
            throw new FileNotFoundException($"No {ModelFile} in {folder}: an XLM-RoBERTa folder needs its SentencePiece model (or a tokenizer.json); copy it from the model's Hugging Face folder.", path);
        int? maxLength = null;
        var configPath = Path.Combine(folder, ConfigFile);
        if (File.Exists(configPath)
            && JsonFile.ReadObject(configPath, "fix or delete it")["model_max_length"] is JsonValue m && m.TryGetValue<double>(out var d) && d is >= 1 and <= int.MaxValue)
            maxLength = (int)d;
        return FromModel(File.ReadAllBytes(path), path, maxLength);
    }

    /// <summary>A tokenizer over the bytes of a SentencePiece Unigram model (a ModelProto).</summary>
    public static XlmRobertaTokenizer FromModel(byte[] model, string source = "in-memory model", int? modelMaxLength = null)
    {
        SentencePieceTokenizer sp;
        try
        {
            using var stream = new MemoryStream(model, writable: false);
            sp = SentencePieceTokenizer.Create(stream, false, false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{source} is not a SentencePiece model Microsoft.ML.Tokenizers can read ({e.Message.Split('\n')[0]}); XLM-RoBERTa needs its sentencepiece.bpe.model.", e);
        }
        var pieces = sp.Vocabulary.Count;
        // Characters the model's charsmap deletes (nmt_nfkc: most C0/C1 controls, some format characters): Microsoft.ML.Tokenizers
        // (2.0.1, 3.0.0) keeps them (they then become <unk> and split the words around them), so they are removed here first.
        var deleted = PrecompiledCharsmap.FromModelProto(model) is { } blob ? new PrecompiledCharsmap(blob, source).Deleted() : new HashSet<int>();
        string WithoutDeleted(string chunk)
        {
            if (deleted.Count == 0 || !chunk.EnumerateRunes().Any(r => deleted.Contains(r.Value))) return chunk;
            var kept = new StringBuilder(chunk.Length);
            foreach (var rune in chunk.EnumerateRunes())
                if (!deleted.Contains(rune.Value)) kept.Append(rune.ToString());
            return kept.ToString();
        }
        if (sp.UnknownId != 0)
            throw new InvalidDataException($"{source}: the SentencePiece model's <unk> is id {sp.UnknownId}, not 0; this is not an XLM-RoBERTa vocabulary (its pieces must start <unk>, <s>, </s>).");
        IEnumerable<int> Encode(string chunk)
        {
            var ids = sp.EncodeToIds(WithoutDeleted(chunk), addBeginningOfSentence: false, addEndOfSentence: false);
            var previousUnknown = false;
            foreach (var id in ids)
            {
                // SentencePiece fuses a run of unknown characters into one <unk>; Microsoft.ML.Tokenizers does not.
                if (id == 0) { if (!previousUnknown) yield return UnkId; previousUnknown = true; continue; }
                previousUnknown = false;
                yield return id + 1; // fairseq's offset: <s> <pad> </s> <unk> come first
            }
        }
        return new XlmRobertaTokenizer(Encode, pieces + 2, model, null, modelMaxLength);
    }

    /// <summary>A tokenizer from a tokenizer.json's Unigram model and its pipeline (see <see cref="TokenizerJson"/>).</summary>
    internal static XlmRobertaTokenizer FromTokenizerJson(Func<string, IEnumerable<int>> encodeChunk, int vocabSize, string json) =>
        new(encodeChunk, vocabSize, null, json, null);

    /// <summary>Writes sentencepiece.bpe.model + tokenizer_config.json (or the tokenizer.json it was read from).</summary>
    public void SaveTo(string folder)
    {
        Directory.CreateDirectory(folder);
        if (tokenizerJson is not null)
        {
            AtomicFile.WriteAllText(Path.Combine(folder, TokenizerJson.FileName), tokenizerJson);
            return;
        }
        AtomicFile.WriteAllBytes(Path.Combine(folder, ModelFile), modelBytes!);
        var config = new JsonObject
        {
            ["tokenizer_class"] = "XLMRobertaTokenizer",
            ["bos_token"] = "<s>", ["eos_token"] = "</s>", ["sep_token"] = "</s>", ["cls_token"] = "<s>",
            ["unk_token"] = "<unk>", ["pad_token"] = "<pad>", ["mask_token"] = "<mask>",
        };
        if (ModelMaxLength is { } max) config["model_max_length"] = max;
        AtomicFile.WriteAllText(Path.Combine(folder, ConfigFile), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    // ---- encoding ----

    /// <summary>Hugging Face ids of <paramref name="text"/>, no &lt;s&gt;/&lt;/s&gt; added.</summary>
    public int[] Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        foreach (var (chunk, specialId) in SplitOnSpecialTokens(text))
        {
            if (specialId >= 0) ids.Add(specialId);
            else ids.AddRange(encodeChunk(chunk));
        }
        return [.. ids];
    }

    /// <summary>&lt;s&gt; text &lt;/s&gt;, truncated to <paramref name="maxLength"/> ids (specials included) when given.</summary>
    public int[] Encode(string text, int? maxLength = null) => EncodeSequence(text, null, maxLength).Ids;

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
            int[] ids = [BosId, .. first, EosId];
            return new EncodedText(ids, new int[ids.Length]);
        }
        var second = Tokenize(pair);
        if (maxLength is { } limit)
        {
            CheckMaxLength(limit, 4);
            int keepFirst = first.Length, keepSecond = second.Length;
            while (keepFirst + keepSecond > limit - 4)
            {
                if (keepFirst > keepSecond) keepFirst--; else keepSecond--; // Hugging Face's longest_first
            }
            (first, second) = (first[..keepFirst], second[..keepSecond]);
        }
        int[] pairIds = [BosId, .. first, EosId, EosId, .. second, EosId];
        return new EncodedText(pairIds, new int[pairIds.Length]);
    }

    public EncodedBatch EncodeBatch(IReadOnlyList<string> texts, IReadOnlyList<string?>? pairs, int maxLength)
    {
        if (pairs is not null && pairs.Count != texts.Count)
            throw new ArgumentException($"{texts.Count} texts but {pairs.Count} second texts; give one per text.", nameof(pairs));
        var rows = new EncodedText[texts.Count];
        for (var k = 0; k < texts.Count; k++) rows[k] = EncodeSequence(texts[k], pairs?[k], maxLength);
        return EncodedBatch.Pad(rows, PadId);
    }

    private static void CheckMaxLength(int max, int specials)
    {
        if (max < specials + 1)
            throw new ArgumentOutOfRangeException(nameof(max), max, $"A maximum length of {max} cannot hold the {specials} special tokens and any text; use at least {specials + 1}.");
    }

    private int IdOf(string special) => special switch { "<s>" => BosId, "<pad>" => PadIdValue, "</s>" => EosId, "<unk>" => UnkId, _ => MaskId };

    // Special-token literals wherever they occur; <mask> strips the whitespace before it (Python's str.rstrip).
    private IEnumerable<(string Chunk, int SpecialId)> SplitOnSpecialTokens(string text)
    {
        var pending = new StringBuilder();
        var i = 0;
        while (i < text.Length)
        {
            var match = text[i] == '<' ? SpecialTokens.FirstOrDefault(t => string.CompareOrdinal(text, i, t, 0, t.Length) == 0) : null;
            if (match is null)
            {
                pending.Append(text[i++]);
                continue;
            }
            var before = pending.ToString();
            if (match == "<mask>") before = PythonText.RStrip(before);
            if (before.Length > 0) yield return (before, -1);
            pending.Clear();
            yield return (match, IdOf(match));
            i += match.Length;
        }
        if (pending.Length > 0) yield return (pending.ToString(), -1);
    }
}

/// <summary>Python's str.isspace / str.rstrip, which Hugging Face's added-token stripping uses.</summary>
internal static class PythonText
{
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || c is >= '\u001c' and <= '\u001f';

    public static string RStrip(string s)
    {
        var end = s.Length;
        while (end > 0 && IsSpace(s[end - 1])) end--;
        return s[..end];
    }

    public static string LStrip(string s)
    {
        var start = 0;
        while (start < s.Length && IsSpace(s[start])) start++;
        return s[start..];
    }
}
