using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.ML.Lorenza.Modeling;

namespace Microsoft.ML.Lorenza.Text;

/// <summary>
/// Hugging Face's fast-tokenizer file (tokenizer.json), read when a folder lacks the slow tokenizer's files, for the three
/// models these families use — byte-level BPE (RoBERTa), WordPiece (BERT, DistilBERT, ELECTRA) and Unigram (XLM-RoBERTa) —
/// with the normalizers, pre-tokenizers, post-processors and added tokens those tokenizers are written with. Anything
/// else is refused with one line naming the component, since it could not be reproduced exactly: another model type, a
/// normalizer or pre-tokenizer outside that set, settings that change the result (BPE dropout, a WordPiece prefix other
/// than ##, ByteLevel with a prefix space, …), added tokens beyond the family's special tokens, a post-processor that
/// is not the family's template.
/// </summary>
public static partial class TokenizerJson
{
    public const string FileName = "tokenizer.json";

    /// <summary>True when <paramref name="folder"/> holds a tokenizer.json.</summary>
    public static bool IsIn(string folder) => File.Exists(Path.Combine(folder, FileName));

    /// <summary>Reads a tokenizer.json; <paramref name="family"/> (when known) must match its model.</summary>
    public static ITextTokenizer Load(string path, ModelFamily? family)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No tokenizer.json at {path}.", path);
        var text = File.ReadAllText(path);
        var root = JsonFile.ParseObject(text, path, "replace it with the model's tokenizer.json");
        var model = root["model"] as JsonObject ?? throw Refuse(path, "it has no \"model\" object");
        var type = Str(model, "type") ?? (model["merges"] is not null ? "BPE" : model["unk_id"] is not null ? "Unigram" : "WordPiece");
        var expected = type switch { "BPE" => "roberta", "WordPiece" => "bert", "Unigram" => "xlm-roberta", _ => null };
        if (expected is null)
            throw Refuse(path, $"model type '{type}' is not supported (byte-level BPE for RoBERTa, WordPiece for BERT/DistilBERT/ELECTRA, Unigram for XLM-RoBERTa are)");
        if (family is not null)
        {
            var fits = type switch { "BPE" => family.ModelType == RobertaConfig.Type, "Unigram" => family.ModelType == XlmRobertaConfig.Type, _ => family.SlowTokenizerFiles[0].Contains(BertWordPieceTokenizer.VocabFile) };
            if (!fits) throw Refuse(path, $"its model is {type}, but config.json's model_type '{family.ModelType}' needs {(family.ModelType == RobertaConfig.Type ? "BPE" : family.ModelType == XlmRobertaConfig.Type ? "Unigram" : "WordPiece")}");
        }
        return type switch
        {
            "BPE" => LoadBpe(root, model, path),
            "WordPiece" => LoadWordPiece(root, model, path),
            _ => LoadUnigram(root, model, path, text),
        };
    }

    private static InvalidDataException Refuse(string path, string what) =>
        new($"{path} cannot be reproduced exactly: {what}. Use the model's slow tokenizer files instead (vocab.json + merges.txt, vocab.txt, or sentencepiece.bpe.model).");

    private static byte[] Base64(string text, string path)
    {
        var bytes = new byte[text.Length * 3 / 4 + 3];
        return Convert.TryFromBase64String(text, bytes, out var written) ? bytes[..written] : throw Refuse(path, "precompiled_charsmap is not base64");
    }

    private static string? Str(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
    private static bool? Bool(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : null;
    private static string Describe(JsonNode? node) => node?.ToJsonString() is { Length: > 120 } s ? s[..120] + "…" : node?.ToJsonString() ?? "null";

    // ---- added tokens and post-processors ----

    /// <summary>Checks the added tokens are exactly the family's specials (ids as in the vocabulary; only &lt;mask&gt; may lstrip).</summary>
    private static void CheckAddedTokens(JsonObject root, string path, IReadOnlyDictionary<string, int> specials, string? lstripToken)
    {
        if (root["added_tokens"] is not JsonArray added) return;
        foreach (var node in added)
        {
            if (node is not JsonObject token) throw Refuse(path, $"added token {Describe(node)} is not an object");
            var content = Str(token, "content") ?? "";
            var id = token["id"] is { } idNode ? JsonFile.Int(idNode, "added_tokens[].id", path) : -1;
            if (!specials.TryGetValue(content, out var want))
                throw Refuse(path, $"added token '{content}' (id {id}) is not one of the special tokens {string.Join(" ", specials.Keys)}; added tokens beyond those are not supported");
            if (id != want) throw Refuse(path, $"added token '{content}' has id {id}, but the vocabulary gives it {want}");
            var lstrip = Bool(token, "lstrip") == true;
            if (Bool(token, "single_word") == true || Bool(token, "rstrip") == true || lstrip != (content == lstripToken))
                throw Refuse(path, $"added token '{content}' has single_word/lstrip/rstrip {Bool(token, "single_word") == true}/{lstrip}/{Bool(token, "rstrip") == true}; the family's tokenizer has {(lstripToken is null ? "none of them" : $"lstrip on {lstripToken} only")}");
        }
    }

    /// <summary>The ids a post-processor puts around one text and a pair, as lists with -1 for A and -2 for B.</summary>
    private static (int[] Single, int[] Pair) Template(JsonNode? processor, string path, IReadOnlyDictionary<string, int> vocab)
    {
        if (processor is not JsonObject p) throw Refuse(path, "it has no post-processor (the special tokens would be missing)");
        int Id(string token) => vocab.TryGetValue(token, out var id) ? id : throw Refuse(path, $"the post-processor names '{token}', which is not in the vocabulary");
        int Pair(JsonNode? node) => node is JsonArray a && a.Count == 2 ? JsonFile.Int(a[1], "post_processor id", path) : throw Refuse(path, $"post-processor entry {Describe(node)} is not [token, id]");
        switch (Str(p, "type"))
        {
            case "RobertaProcessing":
                {
                    int cls = Pair(p["cls"]), sep = Pair(p["sep"]);
                    if (Bool(p, "add_prefix_space") == true) throw Refuse(path, "RobertaProcessing with add_prefix_space is not supported");
                    return ([cls, -1, sep], [cls, -1, sep, sep, -2, sep]);
                }
            case "BertProcessing":
                {
                    int cls = Pair(p["cls"]), sep = Pair(p["sep"]);
                    return ([cls, -1, sep], [cls, -1, sep, -2, sep]);
                }
            case "TemplateProcessing":
                {
                    int[] Read(JsonNode? items, bool pair)
                    {
                        if (items is not JsonArray list) throw Refuse(path, $"TemplateProcessing's {(pair ? "pair" : "single")} template is missing");
                        return list.Select(item => item switch
                        {
                            JsonObject { } o when o["Sequence"] is JsonObject s => Str(s, "id") == "A" ? -1 : -2,
                            JsonObject { } o when o["SpecialToken"] is JsonObject t => Id(Str(t, "id") ?? ""),
                            _ => throw Refuse(path, $"template item {Describe(item)} is not a sequence or a special token"),
                        }).ToArray();
                    }
                    return (Read(p["single"], false), Read(p["pair"], true));
                }
            default:
                throw Refuse(path, $"post-processor '{Str(p, "type")}' is not supported (TemplateProcessing, RobertaProcessing and BertProcessing are)");
        }
    }

    private static void CheckTemplate((int[] Single, int[] Pair) actual, (int[] Single, int[] Pair) expected, string path, string family)
    {
        if (!actual.Single.SequenceEqual(expected.Single) || !actual.Pair.SequenceEqual(expected.Pair))
            throw Refuse(path, $"its post-processor adds [{string.Join(" ", actual.Single)}] / [{string.Join(" ", actual.Pair)}] (A = -1, B = -2), not {family}'s [{string.Join(" ", expected.Single)}] / [{string.Join(" ", expected.Pair)}]");
    }

    // ---- byte-level BPE (RoBERTa) ----

    private static ITextTokenizer LoadBpe(JsonObject root, JsonObject model, string path)
    {
        if (root["normalizer"] is JsonObject n) throw Refuse(path, $"normalizer {Str(n, "type")} on a byte-level BPE is not supported (RoBERTa has none)");
        if (root["pre_tokenizer"] is not JsonObject pre || Str(pre, "type") != "ByteLevel")
            throw Refuse(path, $"pre-tokenizer {Describe(root["pre_tokenizer"])} is not supported (RoBERTa's ByteLevel is)");
        if (Bool(pre, "add_prefix_space") == true) throw Refuse(path, "ByteLevel with add_prefix_space true is not supported");
        if (Bool(pre, "use_regex") == false) throw Refuse(path, "ByteLevel with use_regex false is not supported");
        if (model["dropout"] is JsonValue d && JsonFile.Double(d, "model.dropout", path) > 0) throw Refuse(path, "BPE dropout is not supported");
        foreach (var key in new[] { "continuing_subword_prefix", "end_of_word_suffix", "unk_token" })
            if (Str(model, key) is { Length: > 0 } value) throw Refuse(path, $"BPE {key} '{value}' is not supported");
        foreach (var key in new[] { "fuse_unk", "byte_fallback", "ignore_merges" })
            if (Bool(model, key) == true) throw Refuse(path, $"BPE {key} true is not supported");
        var vocab = (model["vocab"] as JsonObject ?? throw Refuse(path, "BPE has no vocab object")).ToDictionary(kv => kv.Key, kv => JsonFile.Int(kv.Value, "model.vocab id", path));
        var merges = new List<(string, string)>();
        foreach (var m in model["merges"] as JsonArray ?? throw Refuse(path, "BPE has no merges"))
        {
            if (m is JsonArray pair && pair.Count == 2) merges.Add((JsonFile.String(pair[0], "model.merges", path), JsonFile.String(pair[1], "model.merges", path)));
            else if (m is JsonValue v && JsonFile.String(v, "model.merges", path).Split(' ') is [var a, var b]) merges.Add((a, b));
            else throw Refuse(path, $"merge {Describe(m)} is not 'left right' or [left, right]");
        }
        string[] specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"];
        var missing = specials.Where(t => !vocab.ContainsKey(t)).ToList();
        if (missing.Count > 0) throw Refuse(path, $"the vocabulary lacks RoBERTa's special token(s) {string.Join(" ", missing)}");
        CheckAddedTokens(root, path, specials.ToDictionary(t => t, t => vocab[t]), "<mask>");
        int cls = vocab["<s>"], sep = vocab["</s>"];
        CheckTemplate(Template(root["post_processor"], path, vocab), ([cls, -1, sep], [cls, -1, sep, sep, -2, sep]), path, "RoBERTa");
        return RobertaTokenizer.FromVocabulary(vocab, merges);
    }

    // ---- WordPiece (BERT, DistilBERT, ELECTRA) ----

    private static ITextTokenizer LoadWordPiece(JsonObject root, JsonObject model, string path)
    {
        if (root["normalizer"] is not JsonObject n || Str(n, "type") != "BertNormalizer")
            throw Refuse(path, $"normalizer {Describe(root["normalizer"])} is not supported (BERT's BertNormalizer is)");
        if (Bool(n, "clean_text") == false) throw Refuse(path, "BertNormalizer with clean_text false is not supported");
        if (root["pre_tokenizer"] is not JsonObject pre || Str(pre, "type") != "BertPreTokenizer")
            throw Refuse(path, $"pre-tokenizer {Describe(root["pre_tokenizer"])} is not supported (BertPreTokenizer is)");
        if ((Str(model, "unk_token") ?? "[UNK]") != "[UNK]") throw Refuse(path, $"WordPiece unk_token '{Str(model, "unk_token")}' is not supported ([UNK] is)");
        if ((Str(model, "continuing_subword_prefix") ?? "##") != "##") throw Refuse(path, $"WordPiece continuing_subword_prefix '{Str(model, "continuing_subword_prefix")}' is not supported (## is)");
        if (JsonFile.Int(model, "max_input_chars_per_word", path, 100) != BertWordPieceTokenizer.MaxWordCharacters)
            throw Refuse(path, $"WordPiece max_input_chars_per_word {model["max_input_chars_per_word"]} is not supported (100 is)");
        var vocab = (model["vocab"] as JsonObject ?? throw Refuse(path, "WordPiece has no vocab object")).ToDictionary(kv => kv.Key, kv => JsonFile.Int(kv.Value, "model.vocab id", path));
        var tokens = new string[vocab.Count];
        foreach (var (token, id) in vocab)
        {
            if (id < 0 || id >= tokens.Length || tokens[id] is not null) throw Refuse(path, $"WordPiece ids are not 0..{tokens.Length - 1} each once (token '{token}' has {id})");
            tokens[id] = token;
        }
        string[] specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
        var missing = specials.Where(t => !vocab.ContainsKey(t)).ToList();
        if (missing.Count > 0) throw Refuse(path, $"the vocabulary lacks BERT's special token(s) {string.Join(" ", missing)}");
        CheckAddedTokens(root, path, specials.ToDictionary(t => t, t => vocab[t]), null);
        int cls = vocab["[CLS]"], sep = vocab["[SEP]"];
        CheckTemplate(Template(root["post_processor"], path, vocab), ([cls, -1, sep], [cls, -1, sep, -2, sep]), path, "BERT");
        var lowercase = Bool(n, "lowercase") ?? true;
        return BertWordPieceTokenizer.FromSettings(tokens, lowercase, Bool(n, "strip_accents"), Bool(n, "handle_chinese_chars") ?? true, path);
    }

    // ---- Unigram (XLM-RoBERTa) ----

    private static ITextTokenizer LoadUnigram(JsonObject root, JsonObject model, string path, string text)
    {
        if (Bool(model, "byte_fallback") == true) throw Refuse(path, "Unigram byte_fallback is not supported (XLM-RoBERTa has none)");
        var entries = model["vocab"] as JsonArray ?? throw Refuse(path, "Unigram has no vocab array");
        var pieces = new List<(string Piece, double Score)>(entries.Count);
        foreach (var e in entries)
            pieces.Add(e is JsonArray { Count: 2 } a ? (JsonFile.String(a[0], "model.vocab piece", path), JsonFile.Double(a[1], "model.vocab score", path)) : throw Refuse(path, $"Unigram entry {Describe(e)} is not [piece, score]"));
        var unkId = model["unk_id"] is { } unk ? JsonFile.Int(unk, "model.unk_id", path) : throw Refuse(path, "Unigram has no unk_id");
        string[] specials = ["<s>", "<pad>", "</s>", "<unk>"];
        for (var i = 0; i < specials.Length; i++)
            if (pieces.Count <= i || pieces[i].Piece != specials[i]) throw Refuse(path, $"Unigram piece {i} is '{(pieces.Count > i ? pieces[i].Piece : "")}', not XLM-RoBERTa's {specials[i]} (ids <s>=0 <pad>=1 </s>=2 <unk>=3)");
        if (unkId != 3) throw Refuse(path, $"Unigram unk_id is {unkId}, not XLM-RoBERTa's 3");
        if (pieces[^1].Piece != "<mask>") throw Refuse(path, $"the last Unigram piece is '{pieces[^1].Piece}', not XLM-RoBERTa's <mask>");
        var ids = pieces.Select((p, i) => (p.Piece, i)).GroupBy(p => p.Piece).ToDictionary(g => g.Key, g => g.First().i);
        CheckAddedTokens(root, path, new[] { "<s>", "<pad>", "</s>", "<unk>", "<mask>" }.ToDictionary(t => t, t => ids[t]), "<mask>");
        CheckTemplate(Template(root["post_processor"], path, ids), ([0, -1, 2], [0, -1, 2, 2, -2, 2]), path, "XLM-RoBERTa");
        var normalize = Normalizer(root["normalizer"], path);
        var (replacement, prepend, split) = Metaspace(root["pre_tokenizer"], path);
        var unigram = new UnigramModel(pieces, unkId);
        IEnumerable<int> Encode(string chunk)
        {
            var normalized = normalize(chunk).Replace(' ', replacement);
            if (normalized.Length == 0) return [];
            if (prepend && normalized[0] != replacement) normalized = replacement + normalized;
            var result = new List<int>();
            if (!split) { result.AddRange(unigram.Encode(normalized)); return result; }
            // Split before every replacement character (Metaspace's MergedWithNext).
            var start = 0;
            for (var i = 1; i <= normalized.Length; i++)
            {
                if (i < normalized.Length && normalized[i] != replacement) continue;
                result.AddRange(unigram.Encode(normalized[start..i]));
                start = i;
            }
            return result;
        }
        return XlmRobertaTokenizer.FromTokenizerJson(Encode, pieces.Count, text);
    }

    private static Func<string, string> Normalizer(JsonNode? node, string path)
    {
        if (node is null) return s => s;
        if (node is not JsonObject n) throw Refuse(path, $"normalizer {Describe(node)} is not an object");
        switch (Str(n, "type"))
        {
            case "Sequence":
                var steps = (n["normalizers"] as JsonArray ?? throw Refuse(path, "Sequence normalizer without normalizers")).Select(s => Normalizer(s, path)).ToList();
                return s => steps.Aggregate(s, (t, f) => f(t));
            case "Precompiled":
                var blob = Str(n, "precompiled_charsmap") is { Length: > 0 } b64 ? Base64(b64, path) : null;
                if (blob is null) return s => s;
                var map = new PrecompiledCharsmap(blob, path);
                return map.Normalize;
            case "Replace":
                var content = Str(n, "content") ?? "";
                if (n["pattern"] is JsonObject pattern && Str(pattern, "String") is { } literal) return s => s.Replace(literal, content, StringComparison.Ordinal);
                if (n["pattern"] is JsonObject rx && Str(rx, "Regex") is { } regex && regex is " {2,}" or "\\s+" or " +")
                {
                    var compiled = new Regex(regex == "\\s+" ? "[ \\t\\n\\r\\f\\v]+" : regex, RegexOptions.CultureInvariant);
                    return s => compiled.Replace(s, content);
                }
                throw Refuse(path, $"Replace normalizer pattern {Describe(n["pattern"])} is not supported (a string, or the regex \" {{2,}}\")");
            case "Strip":
                bool left = Bool(n, "strip_left") ?? Bool(n, "left") ?? false, right = Bool(n, "strip_right") ?? Bool(n, "right") ?? false;
                return s => (left, right) switch { (true, true) => s.Trim(RustWhitespace), (true, false) => s.TrimStart(RustWhitespace), (false, true) => s.TrimEnd(RustWhitespace), _ => s };
            case "NFKC":
                return s => s.Normalize(NormalizationForm.FormKC);
            default:
                throw Refuse(path, $"normalizer '{Str(n, "type")}' is not supported for Unigram (Precompiled, Replace, Strip, NFKC and Sequence are)");
        }
    }

    // Rust's char::is_whitespace (Unicode White_Space), which the Strip normalizer uses.
    private static readonly char[] RustWhitespace = ['\t', '\n', '\v', '\f', '\r', ' ', '\u0085', '\u00A0', '\u1680', '\u2000', '\u2001', '\u2002', '\u2003', '\u2004', '\u2005',
        '\u2006', '\u2007', '\u2008', '\u2009', '\u200A', '\u2028', '\u2029', '\u202F', '\u205F', '\u3000'];

    private static (char Replacement, bool Prepend, bool Split) Metaspace(JsonNode? node, string path)
    {
        if (node is not JsonObject m || Str(m, "type") != "Metaspace") throw Refuse(path, $"pre-tokenizer {Describe(node)} is not supported for Unigram (Metaspace is)");
        var replacement = Str(m, "replacement") is { Length: 1 } r ? r[0] : throw Refuse(path, $"Metaspace replacement {Describe(m["replacement"])} is not one character");
        var scheme = Str(m, "prepend_scheme") ?? (Bool(m, "add_prefix_space") == false ? "never" : "always");
        if (scheme is not ("always" or "never")) throw Refuse(path, $"Metaspace prepend_scheme '{scheme}' is not supported (always and never are)");
        return (replacement, scheme == "always", Bool(m, "split") ?? true);
    }
}

/// <summary>
/// A Unigram language model's segmentation as Hugging Face's tokenizers computes it: the Viterbi path over a trie of the
/// pieces (scores as given; an unknown character scores the lowest piece score − 10), a run of unknown characters fused
/// into one unknown token.
/// </summary>
internal sealed class UnigramModel
{
    private const double UnknownPenalty = 10.0;
    private readonly Dictionary<string, int> ids;
    private readonly double[] scores;
    private readonly int unkId;
    private readonly double unknownScore;
    private readonly int longest;

    public UnigramModel(IReadOnlyList<(string Piece, double Score)> pieces, int unkId)
    {
        ids = new Dictionary<string, int>(pieces.Count, StringComparer.Ordinal);
        scores = new double[pieces.Count];
        for (var i = 0; i < pieces.Count; i++)
        {
            ids.TryAdd(pieces[i].Piece, i);
            scores[i] = pieces[i].Score;
        }
        this.unkId = unkId;
        unknownScore = pieces.Min(p => p.Score) - UnknownPenalty;
        longest = pieces.Max(p => p.Piece.Length);
    }

    public IEnumerable<int> Encode(string text)
    {
        var n = text.Length;
        var best = new (double Score, int Start, int Id)[n + 1];
        for (var i = 1; i <= n; i++) best[i] = (double.NegativeInfinity, -1, -1);
        for (var start = 0; start < n; start = Next(text, start))
        {
            if (best[start].Start < 0 && start > 0) continue;
            var here = best[start].Score;
            var charEnd = Next(text, start);
            var single = false;
            for (var end = charEnd; end <= Math.Min(n, start + longest); end = end < n ? Next(text, end) : n + 1)
            {
                if (!ids.TryGetValue(text[start..end], out var id)) { if (end == n) break; continue; }
                var candidate = here + scores[id];
                if (best[end].Start < 0 || candidate > best[end].Score) best[end] = (candidate, start, id);
                if (end == charEnd) single = true;
                if (end == n) break;
            }
            if (!single)
            {
                var candidate = here + unknownScore;
                if (best[charEnd].Start < 0 || candidate > best[charEnd].Score) best[charEnd] = (candidate, start, unkId);
            }
        }
        var result = new List<int>();
        for (var end = n; end > 0;)
        {
            var (_, start, id) = best[end];
            if (id == unkId && result.Count > 0 && result[^1] == unkId) { end = start; continue; } // fuse unknown runs
            result.Add(id);
            end = start;
        }
        result.Reverse();
        return result;
    }

    private static int Next(string s, int i) => i + (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]) ? 2 : 1);
}
