using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Utf8 = System.Text.Encoding;

namespace Microsoft.ML.Lorenza.Text;

/// <summary>
/// GPT-2/RoBERTa byte-level BPE from Hugging Face's vocab.json + merges.txt, matching transformers'
/// RobertaTokenizer: special tokens split out first (&lt;mask&gt; strips the whitespace before it),
/// GPT-2 pre-tokenization, UTF-8 bytes mapped to visible characters, merges applied by rank.
/// Sentences become <c>&lt;s&gt; A &lt;/s&gt;</c>, pairs <c>&lt;s&gt; A &lt;/s&gt;&lt;/s&gt; B &lt;/s&gt;</c>.
/// Thread-safe; a bounded cache remembers the BPE of frequent words.
/// </summary>
public sealed class RobertaTokenizer : ITextTokenizer
{
    public const string VocabFile = "vocab.json";
    public const string MergesFile = "merges.txt";
    private const int CacheLimit = 100_000;

    private static readonly string[] SpecialTokens = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"];

    private readonly Dictionary<string, int> vocab;
    private readonly string[] idToToken;
    // (left id, right id) packed in a long → (rank, id of the merged token).
    private readonly Dictionary<long, (int Rank, int Merged)> mergeRanks;
    private readonly int[] byteIds;
    private readonly List<(string Left, string Right)> merges;
    private readonly HashSet<int> specialIds;
    private readonly ConcurrentDictionary<string, int[]> cache = new();
    private int cacheSize;

    private RobertaTokenizer(Dictionary<string, int> vocab, List<(string, string)> merges, string source)
    {
        this.vocab = vocab;
        this.merges = merges;
        mergeRanks = new Dictionary<long, (int, int)>(merges.Count);
        for (var rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            if (!vocab.TryGetValue(left, out var l) || !vocab.TryGetValue(right, out var r))
                throw new InvalidDataException($"{source}: merge {rank + 1} '{left} {right}' uses a token that is not in the vocabulary.");
            if (!vocab.TryGetValue(left + right, out var merged))
                throw new InvalidDataException($"{source}: merge {rank + 1} '{left} {right}' makes '{left + right}', which is not in the vocabulary.");
            mergeRanks.TryAdd(Pack(l, r), (rank, merged));
        }
        var missing = SpecialTokens.Where(t => !vocab.ContainsKey(t)).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"{source}: the vocabulary lacks the special token(s) {string.Join(" ", missing)} that RoBERTa needs.");
        byteIds = ByteUnicodeMap.ByteToChar.Select(c => vocab.TryGetValue(c.ToString(), out var id) ? id : -1).ToArray();
        // The id table is sized by the largest id, so that is bounded by the token count (ids are dense in real vocabularies).
        if (vocab.Values.Any(id => id < 0)) throw new InvalidDataException($"{source} has negative token ids.");
        var largest = vocab.Values.Max();
        if (largest >= 2L * vocab.Count + 1024)
            throw new InvalidDataException($"{source}: token id {largest} is far beyond its {vocab.Count} tokens; a vocabulary's ids run 0..{vocab.Count - 1}.");
        idToToken = new string[largest + 1];
        foreach (var (token, id) in vocab) idToToken[id] = token;
        BosId = vocab["<s>"];
        PadId = vocab["<pad>"];
        EosId = vocab["</s>"];
        UnkId = vocab["<unk>"];
        MaskId = vocab["<mask>"];
        specialIds = [BosId, PadId, EosId, UnkId, MaskId];
    }

    public int BosId { get; }
    public int PadId { get; }
    public int EosId { get; }
    public int UnkId { get; }
    public int MaskId { get; }

    /// <summary>One more than the largest id (the embedding table's row count must be at least this).</summary>
    public int VocabSize => idToToken.Length;

    public string Kind => "bpe";

    public IReadOnlyList<string> FileNames { get; } = [VocabFile, MergesFile];

    /// <summary>True when <paramref name="folder"/> holds this tokenizer's files (vocab.json and merges.txt).</summary>
    public static bool IsIn(string folder) => File.Exists(Path.Combine(folder, VocabFile)) && File.Exists(Path.Combine(folder, MergesFile));

    // ---- loading and saving ----

    public static RobertaTokenizer FromFolder(string folder) =>
        FromFiles(Path.Combine(folder, VocabFile), Path.Combine(folder, MergesFile));

    public static RobertaTokenizer FromFiles(string vocabPath, string mergesPath)
    {
        if (!File.Exists(vocabPath)) throw new FileNotFoundException($"Vocabulary file not found: {vocabPath}", vocabPath);
        if (!File.Exists(mergesPath)) throw new FileNotFoundException($"Merges file not found: {mergesPath}", mergesPath);
        Dictionary<string, int> vocab;
        try
        {
            vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabPath))
                    ?? throw new InvalidDataException("null");
        }
        // A lone surrogate escape in a token is the parser's InvalidOperationException (as in JsonFile).
        catch (Exception e) when (e is JsonException or InvalidDataException or InvalidOperationException)
        {
            throw new InvalidDataException($"{vocabPath} is not a JSON object of token → id: {JsonFile.Reason(e)}", e);
        }
        if (vocab.Count == 0) throw new InvalidDataException($"{vocabPath} holds no tokens.");

        return new RobertaTokenizer(vocab, ReadMerges(mergesPath, vocab), vocabPath);
    }

    // The first line is a "#version" header; every other non-empty line is "left right".
    private static List<(string, string)> ReadMerges(string path, Dictionary<string, int> vocab)
    {
        var merges = new List<(string, string)>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal)) continue;
            if (line.Length == 0) continue;
            var parts = line.Split(' ');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                throw new InvalidDataException($"{path} line {lineNumber}: expected 'left right', found '{line}'.");
            if (!vocab.ContainsKey(parts[0] + parts[1]))
                throw new InvalidDataException($"{path} line {lineNumber}: the merge result '{parts[0] + parts[1]}' is not in the vocabulary; vocab.json and merges.txt do not belong together.");
            merges.Add((parts[0], parts[1]));
        }
        return merges;
    }

    /// <summary>Writes vocab.json and merges.txt into <paramref name="folder"/> (loadable here and by transformers).</summary>
    public void SaveTo(string folder)
    {
        Directory.CreateDirectory(folder);
        var ordered = vocab.OrderBy(kv => kv.Value).ToDictionary(kv => kv.Key, kv => kv.Value);
        AtomicFile.WriteAllText(Path.Combine(folder, VocabFile), JsonSerializer.Serialize(ordered));
        AtomicFile.WriteAllText(Path.Combine(folder, MergesFile),
            "#version: 0.2\n" + string.Concat(merges.Select(m => $"{m.Left} {m.Right}\n")));
    }

    /// <summary>Builds a tokenizer from an in-memory vocabulary and merge list (e.g. one trained by <see cref="BpeTrainer"/>).</summary>
    public static RobertaTokenizer FromVocabulary(Dictionary<string, int> vocab, List<(string, string)> merges) =>
        new(vocab, merges, "in-memory vocabulary");

    // ---- encoding ----

    /// <summary>
    /// BPE ids of <paramref name="text"/>, no &lt;s&gt;/&lt;/s&gt; added. Special-token literals in the text
    /// ("&lt;unk&gt;", "&lt;mask&gt;", …) map to their ids as in Hugging Face, unless
    /// <paramref name="splitSpecialTokens"/> is false: then they are ordinary text (plain GPT-2 BPE).
    /// </summary>
    public int[] Tokenize(string text, bool splitSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        var chunks = splitSpecialTokens ? SplitOnSpecialTokens(text) : [(text, -1)];
        foreach (var (chunk, specialId) in chunks)
        {
            if (specialId >= 0) { ids.Add(specialId); continue; }
            foreach (var (start, length) in GptPreTokenizer.Split(chunk))
                ids.AddRange(EncodeWord(chunk.Substring(start, length)));
        }
        return [.. ids];
    }

    /// <summary>&lt;s&gt; text &lt;/s&gt;, truncated to <paramref name="maxLength"/> ids (specials included) when given.</summary>
    public int[] Encode(string text, int? maxLength = null)
    {
        var body = Tokenize(text);
        if (maxLength is { } max)
        {
            CheckMaxLength(max, 2);
            if (body.Length > max - 2) body = body[..(max - 2)];
        }
        return [BosId, .. body, EosId];
    }

    /// <summary>&lt;s&gt; a &lt;/s&gt;&lt;/s&gt; b &lt;/s&gt;, truncating the longer side first to fit <paramref name="maxLength"/>.</summary>
    public int[] EncodePair(string a, string b, int? maxLength = null)
    {
        var left = Tokenize(a);
        var right = Tokenize(b);
        if (maxLength is { } max)
        {
            CheckMaxLength(max, 4);
            int keepLeft = left.Length, keepRight = right.Length;
            while (keepLeft + keepRight > max - 4)
            {
                if (keepLeft >= keepRight) keepLeft--; else keepRight--;
            }
            left = left[..keepLeft];
            right = right[..keepRight];
        }
        return [BosId, .. left, EosId, EosId, .. right, EosId];
    }

    private static void CheckMaxLength(int max, int specials)
    {
        if (max < specials + 1)
            throw new ArgumentOutOfRangeException(nameof(max), max, $"A maximum length of {max} cannot hold the {specials} special tokens and any text; use at least {specials + 1}.");
    }

    /// <summary>RoBERTa has no token types: every type id is 0.</summary>
    public EncodedText EncodeSequence(string text, string? pair, int? maxLength)
    {
        var ids = pair is null ? Encode(text, maxLength) : EncodePair(text, pair, maxLength);
        return new EncodedText(ids, new int[ids.Length]);
    }

    /// <summary>Encodes many texts (or pairs) and pads them into one batch (right padding, attention mask, token types 0).</summary>
    public EncodedBatch EncodeBatch(IReadOnlyList<string> texts, IReadOnlyList<string?>? pairs, int maxLength)
    {
        if (pairs is not null && pairs.Count != texts.Count)
            throw new ArgumentException($"{texts.Count} texts but {pairs.Count} second texts; give one per text.", nameof(pairs));
        var rows = new int[texts.Count][];
        for (var k = 0; k < texts.Count; k++)
            rows[k] = pairs?[k] is { } pair ? EncodePair(texts[k], pair, maxLength) : Encode(texts[k], maxLength);
        return EncodedBatch.Pad(rows, PadId);
    }

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
            // <mask> has lstrip: the text before it loses its trailing whitespace (Python's str.rstrip).
            var before = pending.ToString();
            if (match == "<mask>") before = before.TrimEnd(PythonWhitespace);
            if (before.Length > 0) yield return (before, -1);
            pending.Clear();
            yield return (match, vocab[match]);
            i += match.Length;
        }
        if (pending.Length > 0) yield return (pending.ToString(), -1);
    }

    // Python's str.isspace set for the BMP characters that matter here (adds U+001C–U+001F to .NET's).
    private static readonly char[] PythonWhitespace =
        Enumerable.Range(0, 0x3001).Select(c => (char)c).Where(c => char.IsWhiteSpace(c) || c is >= '\u001c' and <= '\u001f').ToArray();

    private static long Pack(int left, int right) => ((long)left << 32) | (uint)right;

    private int[] EncodeWord(string word)
    {
        if (cache.TryGetValue(word, out var cached)) return cached;
        var bytes = Utf8.UTF8.GetBytes(word);
        var symbols = new List<int>(bytes.Length);
        foreach (var b in bytes) symbols.Add(byteIds[b] >= 0 ? byteIds[b] : UnkId);
        ApplyMerges(symbols);
        var ids = symbols.ToArray();
        // ConcurrentDictionary.Count takes every lock, so the size is tracked separately.
        if (Volatile.Read(ref cacheSize) < CacheLimit && cache.TryAdd(word, ids)) Interlocked.Increment(ref cacheSize);
        return ids;
    }

    // Repeatedly merges every occurrence of the lowest-ranked adjacent pair (Hugging Face's order),
    // on token ids rather than strings.
    private void ApplyMerges(List<int> symbols)
    {
        while (symbols.Count > 1)
        {
            var best = (Rank: int.MaxValue, Merged: -1);
            long bestPair = 0;
            for (var k = 0; k + 1 < symbols.Count; k++)
            {
                var pair = Pack(symbols[k], symbols[k + 1]);
                if (mergeRanks.TryGetValue(pair, out var merge) && merge.Rank < best.Rank)
                {
                    best = merge;
                    bestPair = pair;
                }
            }
            if (best.Merged < 0) return;
            var write = 0;
            for (var k = 0; k < symbols.Count; k++)
            {
                if (k + 1 < symbols.Count && Pack(symbols[k], symbols[k + 1]) == bestPair)
                {
                    symbols[write++] = best.Merged;
                    k++;
                }
                else
                {
                    symbols[write++] = symbols[k];
                }
            }
            symbols.RemoveRange(write, symbols.Count - write);
        }
    }

    // ---- decoding ----

    /// <summary>
    /// Text of <paramref name="ids"/>: special tokens as their literal text (or dropped), byte-level
    /// characters back to UTF-8 (invalid sequences become U+FFFD, as Python's errors="replace").
    /// </summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        var result = new StringBuilder();
        var bytes = new List<byte>();
        void Flush()
        {
            result.Append(Utf8.UTF8.GetString(bytes.ToArray()));
            bytes.Clear();
        }
        foreach (var id in ids)
        {
            if (id < 0 || id >= idToToken.Length || idToToken[id] is null)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is not in the vocabulary (0..{idToToken.Length - 1}).");
            if (specialIds.Contains(id))
            {
                if (skipSpecialTokens) continue;
                Flush();
                result.Append(idToToken[id]);
                continue;
            }
            foreach (var c in idToToken[id])
            {
                if (ByteUnicodeMap.CharToByte.TryGetValue(c, out var b)) bytes.Add(b);
                else bytes.AddRange(Utf8.UTF8.GetBytes(c.ToString()));
            }
        }
        Flush();
        return result.ToString();
    }

    /// <summary>The byte-level token strings of <paramref name="text"/> (e.g. "Ġworld").</summary>
    public string[] TokenStrings(string text) => Tokenize(text).Select(id => idToToken[id]).ToArray();
}
