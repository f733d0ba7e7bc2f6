using System.Text.Json;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Text;

namespace Microsoft.ML.Lorenza.Tests.Support;

/// <summary>
/// Small BERT models for tests. <see cref="Reference"/>: a random BERT written as a Hugging Face folder by
/// test/reference/bert_reference.py (an independent float64 implementation under Debian's PyTorch) with its logits,
/// hidden states and gradients, made once per test run (Inconclusive without python3-torch). <see cref="WriteTiny"/>:
/// a tiny random BERT folder with a WordPiece vocabulary, written by the engine itself (no Python needed).
/// </summary>
public static class BertFixture
{
    private static readonly Lazy<string> Folder = new(() =>
    {
        var dir = Path.Combine(Path.GetTempPath(), $"lorenza-bert-reference-{Environment.ProcessId}");
        using var reply = PythonReference.RunScript("bert_reference.py", new { @out = dir, seed = 7 });
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(dir, true); } catch (IOException) { } };
        return dir;
    });

    /// <summary>The reference folder: config.json, model.safetensors, pytorch_model.bin, expected.json, bare/.</summary>
    public static string Reference => Folder.Value;

    public static JsonElement Expected() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Reference, "expected.json"))).RootElement;

    /// <summary>A vocabulary for tiny models: the specials at BERT's usual places, letters, words, and pieces.</summary>
    public static IReadOnlyList<string> TinyVocabulary { get; } =
    [
        "[PAD]", "[unused0]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
        .. "abcdefghijklmnopqrstuvwxyz0123456789.,!?'-".Select(c => c.ToString()),
        .. "abcdefghijklmnopqrstuvwxyz".Select(c => "##" + c),
        "good", "great", "fine", "bad", "awful", "poor", "film", "movie", "the", "is", "was", "not", "very", "plot",
        "##ing", "##ed", "##ly", "act", "##or", "story", "fun", "dull", "love", "hate", "it",
    ];

    /// <summary>
    /// Writes a tiny random BERT classifier folder (config.json with model_type bert, model.safetensors, vocab.txt,
    /// tokenizer_config.json) made by the engine, and returns its tokenizer.
    /// </summary>
    /// <param name="extraWords">Whole words added to <see cref="TinyVocabulary"/> (other words fall back to letter pieces).</param>
    public static BertWordPieceTokenizer WriteTiny(string folder, int labels = 2, ulong seed = 1, int hidden = 32, int layers = 2, int maxLength = 64,
        IEnumerable<string>? extraWords = null)
    {
        var vocabulary = TinyVocabulary.Concat((extraWords ?? []).Except(TinyVocabulary)).ToList();
        var tokenizer = BertWordPieceTokenizer.FromVocabulary(vocabulary, lowerCase: true, modelMaxLength: maxLength);
        var config = BertConfig.Tiny(tokenizer.VocabSize, labels, hidden, layers, heads: 4, maxLength: maxLength);
        using var model = BertForSequenceClassification.Create(config, seed);
        ModelFolder.Save(model, folder);
        tokenizer.SaveTo(folder);
        return tokenizer;
    }
}
