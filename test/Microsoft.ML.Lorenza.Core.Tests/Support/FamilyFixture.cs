using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Text;

namespace Microsoft.ML.Lorenza.Tests.Support;

/// <summary>
/// The reference models of the families added after BERT (test/reference/families_reference.py, an independent float64
/// implementation per family under Debian's PyTorch): a small random DistilBERT, XLM-RoBERTa or ELECTRA as a Hugging Face
/// folder with its logits, hidden states and gradients, made once per test run and family (Inconclusive without
/// python3-torch).
/// </summary>
public static class FamilyFixture
{
    private static readonly ConcurrentDictionary<string, Lazy<string>> Folders = new();

    /// <summary>The reference folder of <paramref name="family"/> (a model_type): config.json, model.safetensors, pytorch_model.bin, expected.json.</summary>
    public static string Reference(string family) => Folders.GetOrAdd(family, f => new Lazy<string>(() =>
    {
        var dir = Path.Combine(Path.GetTempPath(), $"lorenza-{f}-reference-{Environment.ProcessId}");
        using var reply = PythonReference.RunScript("families_reference.py", new { family = f, @out = dir, seed = 7 });
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(dir, true); } catch (IOException) { } };
        return dir;
    })).Value;

    public static JsonElement Expected(string family) => JsonDocument.Parse(File.ReadAllText(Path.Combine(Reference(family), "expected.json"))).RootElement;

    /// <summary>The committed tiny multilingual SentencePiece Unigram model (test/fixtures/xlmr-tiny; made by sentencepiece_reference.py).</summary>
    public static string XlmrTinyFolder => Path.Combine(SharedData.RepoRoot, "test", "fixtures", "xlmr-tiny");

    /// <summary>
    /// Writes a tiny random classifier folder of <paramref name="family"/> made by the engine (no Python needed): DistilBERT
    /// and ELECTRA with <see cref="BertFixture.TinyVocabulary"/> (WordPiece), XLM-RoBERTa with the committed multilingual
    /// SentencePiece model; returns its tokenizer.
    /// </summary>
    public static ITextTokenizer WriteTiny(string family, string folder, int labels = 2, ulong seed = 1, int hidden = 32, int layers = 2, int maxLength = 64)
    {
        ITextTokenizer tokenizer = family == XlmRobertaConfig.Type
            ? XlmRobertaTokenizer.FromFolder(XlmrTinyFolder)
            : BertWordPieceTokenizer.FromVocabulary(BertFixture.TinyVocabulary, lowerCase: true, modelMaxLength: maxLength);
        TransformerConfig config = family switch
        {
            XlmRobertaConfig.Type => XlmRobertaConfig.Tiny(tokenizer.VocabSize, labels, hidden, layers, heads: 4, maxLength: maxLength),
            DistilBertConfig.Type => DistilBertConfig.Tiny(tokenizer.VocabSize, labels, hidden, layers, heads: 4, maxLength: maxLength),
            ElectraConfig.Type => ElectraConfig.Tiny(tokenizer.VocabSize, labels, hidden, layers, heads: 4, maxLength: maxLength),
            _ => throw new ArgumentException($"no tiny fixture for '{family}'", nameof(family)),
        };
        using var model = SequenceClassifier.Create(config, seed);
        ModelFolder.Save(model, folder);
        tokenizer.SaveTo(folder);
        return tokenizer;
    }

    /// <summary>Labelled texts in seven languages (French, German, Spanish, Russian, Chinese, Arabic, Hindi; no English): a film
    /// sentence whose one sentiment word decides the label. Seeded.</summary>
    public static List<(string Text, string Label)> MultilingualReviews(int count, int seed)
    {
        string[][] positive = [["magnifique", "superbe"], ["wunderbar", "großartig"], ["maravillosa", "excelente"], ["отличный", "хороший"], ["很好", "精彩"], ["رائع", "جميل"], ["अच्छी", "शानदार"]];
        string[][] negative = [["affreux", "nul"], ["schrecklich", "langweilig"], ["horrible", "aburrida"], ["ужасный", "плохой"], ["很差", "无聊"], ["سيئ", "ممل"], ["बुरी", "बेकार"]];
        string[][] fillers = [["le film était", "vraiment", "hier soir"], ["der Film war", "wirklich", "gestern"], ["la película fue", "muy", "anoche"],
            ["фильм был", "очень", "вчера"], ["这部电影", "真的", "昨天"], ["الفيلم كان", "حقا", "أمس"], ["फ़िल्म थी", "बहुत", "कल"]];
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(i =>
        {
            var language = random.Next(fillers.Length);
            var good = i % 2 == 0;
            var words = good ? positive[language] : negative[language];
            var f = fillers[language];
            var text = $"{f[0]} {(random.Next(2) == 0 ? f[1] + " " : "")}{words[random.Next(words.Length)]}{(random.Next(2) == 0 ? " " + f[2] : "")}";
            return (text, good ? "positif" : "négatif");
        }).ToList();
    }
}
