using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.ML.Lorenza.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Text;

/// <summary>
/// tokenizer.json read without the slow files, for the three models: each file's ids against Hugging Face's Rust tokenizers
/// 0.22 on the same file (test/js/hf-tokenizers, the library behind transformers' fast tokenizers) and against the slow
/// files on the fixtures' texts. Unigram: XLM-RoBERTa's file as Hugging Face's converter writes it for the tiny multilingual
/// model, on the 624 check texts. WordPiece: BERT's file for the tiny vocabulary. BPE: RoBERTa's file for the real GPT-2
/// vocabulary of ../shared/fixtures/bpe-gpt2 on its texts. Files it cannot reproduce are refused, naming what.
/// </summary>
[TestClass]
public sealed class TokenizerJsonTests
{
    private static List<int[]> HuggingFaceRust(string tokenizerJson, IEnumerable<string> texts)
    {
        var request = JsonSerializer.Serialize(new { tokenizer = tokenizerJson, cases = texts.Select(t => new { text = t, pair = (string?)null }) });
        var reply = JsonDocument.Parse(NodeReference.Run("hf-tokenizers", "encode.js", request)).RootElement;
        return reply.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("ids").EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToList();
    }

    [TestMethod]
    public void UnigramTokenizerJsonMatchesHuggingFaceFastTokenizer()
    {
        var dir = Directory.CreateTempSubdirectory("lorenza-tokjson-unigram-").FullName;
        try
        {
            var path = Path.Combine(dir, "tokenizer.json");
            XlmRobertaTokenizerTests.Reference(new { action = "tokenizer_json", model = Path.Combine(FamilyFixture.XlmrTinyFolder, "sentencepiece.bpe.model"), @out = path });
            var slowReply = XlmRobertaTokenizerTests.Reference(new { action = "encode", model = Path.Combine(FamilyFixture.XlmrTinyFolder, "sentencepiece.bpe.model"), texts = (string[]?)null });
            var cases = slowReply.GetProperty("results").EnumerateArray().Select(r => (Script: r.GetProperty("script").GetString()!, Text: r.GetProperty("text").GetString()!,
                Slow: r.GetProperty("ids").EnumerateArray().Select(v => v.GetInt32()).ToArray())).ToList();
            var fast = HuggingFaceRust(path, cases.Select(c => c.Text));
            var tokenizer = (XlmRobertaTokenizer)TokenizerJson.Load(path, ModelFamilies.Find("xlm-roberta"));
            var slow = XlmRobertaTokenizer.FromFolder(FamilyFixture.XlmrTinyFolder);
            Assert.AreEqual(slow.VocabSize, tokenizer.VocabSize);
            int agreeFast = 0, agreeSlow = 0, fastSlow = 0;
            var failures = new List<string>();
            for (var i = 0; i < cases.Count; i++)
            {
                var ours = tokenizer.Encode(cases[i].Text);
                if (ours.SequenceEqual(fast[i])) agreeFast++;
                else if (failures.Count < 8) failures.Add($"{cases[i].Script} {JsonSerializer.Serialize(cases[i].Text)}: Rust [{string.Join(",", fast[i])}] ours [{string.Join(",", ours)}]");
                if (ours.SequenceEqual(cases[i].Slow)) agreeSlow++;
                if (fast[i].SequenceEqual(cases[i].Slow)) fastSlow++;
            }
            Console.WriteLine($"Unigram tokenizer.json on {cases.Count} texts: equal to Hugging Face's Rust tokenizers on {agreeFast}; equal to the slow files (sentencepiece.bpe.model) on {agreeSlow}; Rust itself equals the slow files on {fastSlow} (the rest end in whitespace: the Hub's XLM-R tokenizer.json, without Strip, gives a final '▁')");
            Assert.AreEqual(0, failures.Count, string.Join("\n", failures));
            Assert.AreEqual(fastSlow, agreeSlow);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    internal static JsonObject WordPieceJson(IReadOnlyList<string> vocab, bool lowercase) => new()
    {
        ["version"] = "1.0",
        ["added_tokens"] = new JsonArray(new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" }.Select(t => (JsonNode)new JsonObject
        {
            ["id"] = vocab.ToList().IndexOf(t), ["content"] = t, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
        }).ToArray()),
        ["normalizer"] = new JsonObject { ["type"] = "BertNormalizer", ["clean_text"] = true, ["handle_chinese_chars"] = true, ["strip_accents"] = null, ["lowercase"] = lowercase },
        ["pre_tokenizer"] = new JsonObject { ["type"] = "BertPreTokenizer" },
        ["post_processor"] = JsonNode.Parse("""
            {"type": "TemplateProcessing",
             "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
             "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                      {"Sequence": {"id": "B", "type_id": 1}}, {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
             "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [CLS_ID], "tokens": ["[CLS]"]}, "[SEP]": {"id": "[SEP]", "ids": [SEP_ID], "tokens": ["[SEP]"]}}}
            """.Replace("CLS_ID", vocab.ToList().IndexOf("[CLS]").ToString()).Replace("SEP_ID", vocab.ToList().IndexOf("[SEP]").ToString())),
        ["decoder"] = new JsonObject { ["type"] = "WordPiece", ["prefix"] = "##", ["cleanup"] = true },
        ["model"] = new JsonObject
        {
            ["type"] = "WordPiece", ["unk_token"] = "[UNK]", ["continuing_subword_prefix"] = "##", ["max_input_chars_per_word"] = 100,
            ["vocab"] = new JsonObject(vocab.Select((t, i) => KeyValuePair.Create(t, (JsonNode?)i))),
        },
    };

    [TestMethod]
    public void WordPieceAndBpeTokenizerJsonMatchTheSlowFilesAndHuggingFace()
    {
        var dir = Directory.CreateTempSubdirectory("lorenza-tokjson-").FullName;
        try
        {
            // WordPiece: the tiny BERT vocabulary.
            var vocab = BertFixture.TinyVocabulary;
            var wordPiecePath = Path.Combine(dir, "wordpiece.json");
            File.WriteAllText(wordPiecePath, WordPieceJson(vocab, lowercase: true).ToJsonString());
            string[] texts = ["The film was GOOD!", "a great plot, not dull.", "Très bien: l'acteur", "unknownword xyz", "[MASK] is fun [SEP] ok", "  spaced\tout\nlines  ",
                "ÉLÉPHANT naïve café", "你好 film 很好", "it's 100% fine", "dull-ish, fun-ish"];
            var fromJson = (BertWordPieceTokenizer)TokenizerJson.Load(wordPiecePath, ModelFamilies.Find("distilbert"));
            var slow = BertWordPieceTokenizer.FromVocabulary(vocab, lowerCase: true);
            var rust = HuggingFaceRust(wordPiecePath, texts);
            for (var i = 0; i < texts.Length; i++)
            {
                CollectionAssert.AreEqual(slow.Encode(texts[i]), fromJson.Encode(texts[i]), $"WordPiece tokenizer.json vs vocab.txt: {texts[i]}");
                CollectionAssert.AreEqual(rust[i], fromJson.Encode(texts[i]), $"WordPiece vs Hugging Face's Rust tokenizers: {texts[i]}");
            }
            Console.WriteLine($"WordPiece tokenizer.json: {texts.Length} of {texts.Length} texts equal to vocab.txt and to Hugging Face's Rust tokenizers");

            // BPE: RoBERTa's file for the real GPT-2 vocabulary of the shared fixture, on its texts (Hugging Face's slow ids there).
            var fixture = SharedData.RequirePath("fixtures", "bpe-gpt2");
            var bpeVocab = JsonNode.Parse(File.ReadAllText(Path.Combine(fixture, "vocab.json")))!.AsObject();
            var merges = File.ReadAllLines(Path.Combine(fixture, "merges.txt")).Skip(1).Where(l => l.Length > 0).ToArray();
            int Id(string t) => bpeVocab[t]!.GetValue<int>();
            var bpe = new JsonObject
            {
                ["version"] = "1.0",
                ["added_tokens"] = new JsonArray(new[] { "<s>", "<pad>", "</s>", "<unk>", "<mask>" }.Select(t => (JsonNode)new JsonObject
                {
                    ["id"] = Id(t), ["content"] = t, ["single_word"] = false, ["lstrip"] = t == "<mask>", ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
                }).ToArray()),
                ["normalizer"] = null,
                ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true },
                ["post_processor"] = new JsonObject { ["type"] = "RobertaProcessing", ["sep"] = new JsonArray("</s>", Id("</s>")), ["cls"] = new JsonArray("<s>", Id("<s>")), ["trim_offsets"] = true, ["add_prefix_space"] = false },
                ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
                ["model"] = new JsonObject
                {
                    ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = "", ["end_of_word_suffix"] = "", ["fuse_unk"] = false, ["byte_fallback"] = false,
                    ["vocab"] = bpeVocab.DeepClone(), ["merges"] = new JsonArray(merges.Select(m => (JsonNode)m).ToArray()),
                },
            };
            var bpePath = Path.Combine(dir, "bpe.json");
            File.WriteAllText(bpePath, bpe.ToJsonString());
            var bpeTexts = JsonNode.Parse(File.ReadAllText(Path.Combine(fixture, "texts.json")))!["texts"]!.AsArray().Select(t => t is JsonObject o ? o["text"]!.GetValue<string>() : t!.GetValue<string>()).ToList();
            var fromBpe = (RobertaTokenizer)TokenizerJson.Load(bpePath, ModelFamilies.Find("roberta"));
            var slowBpe = RobertaTokenizer.FromFolder(fixture);
            var rustBpe = HuggingFaceRust(bpePath, bpeTexts);
            int sameSlow = 0, sameRust = 0;
            for (var i = 0; i < bpeTexts.Count; i++)
            {
                var ours = fromBpe.Encode(bpeTexts[i]);
                if (ours.SequenceEqual(slowBpe.Encode(bpeTexts[i]))) sameSlow++;
                if (ours.SequenceEqual(rustBpe[i])) sameRust++;
            }
            Console.WriteLine($"BPE tokenizer.json on {bpeTexts.Count} bpe-gpt2 texts: equal to vocab.json + merges.txt on {sameSlow}, to Hugging Face's Rust tokenizers on {sameRust}");
            Assert.AreEqual(bpeTexts.Count, sameSlow);

            // Refusals name what cannot be reproduced.
            void Refused(JsonObject document, ModelFamily? family, string expected)
            {
                var p = Path.Combine(dir, "bad.json");
                File.WriteAllText(p, document.ToJsonString());
                var e = Assert.ThrowsExactly<InvalidDataException>(() => TokenizerJson.Load(p, family));
                StringAssert.Contains(e.Message, expected);
                StringAssert.Contains(e.Message, "cannot be reproduced exactly");
            }
            var dropout = (JsonObject)bpe.DeepClone(); dropout["model"]!["dropout"] = 0.1;
            Refused(dropout, null, "BPE dropout is not supported");
            var extra = WordPieceJson(vocab, true); ((JsonArray)extra["added_tokens"]!).Add(new JsonObject { ["id"] = 7, ["content"] = "a", ["special"] = false });
            Refused(extra, null, "added token 'a' (id 7) is not one of the special tokens");
            var wordLevel = WordPieceJson(vocab, true); wordLevel["model"]!["type"] = "WordLevel";
            Refused(wordLevel, null, "model type 'WordLevel' is not supported");
            var prefix = WordPieceJson(vocab, true); prefix["model"]!["continuing_subword_prefix"] = "@@";
            Refused(prefix, null, "continuing_subword_prefix '@@' is not supported");
            Refused(WordPieceJson(vocab, true), ModelFamilies.Find("xlm-roberta"), "needs Unigram");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [TestMethod]
    public void AFolderWithOnlyTokenizerJsonLoadsForItsFamily()
    {
        var dir = Directory.CreateTempSubdirectory("lorenza-tokjson-folder-").FullName;
        try
        {
            FamilyFixture.WriteTiny("distilbert", dir, labels: 2, maxLength: 32);
            var before = ModelFolder.LoadTokenizer(dir).EncodeSequence("the film was great", null, 32).Ids;
            File.Delete(Path.Combine(dir, "vocab.txt"));
            File.Delete(Path.Combine(dir, "tokenizer_config.json"));
            StringAssert.Contains(Assert.ThrowsExactly<FileNotFoundException>(() => ModelFolder.LoadTokenizer(dir)).Message, "no vocab.txt and no tokenizer.json");
            File.WriteAllText(Path.Combine(dir, "tokenizer.json"), WordPieceJson(BertFixture.TinyVocabulary, true).ToJsonString());
            var tokenizer = ModelFolder.LoadTokenizer(dir);
            Assert.IsInstanceOfType<BertWordPieceTokenizer>(tokenizer);
            CollectionAssert.AreEqual(before, tokenizer.EncodeSequence("the film was great", null, 32).Ids);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
