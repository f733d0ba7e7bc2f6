using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.ML.Lorenza.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Text;

/// <summary>
/// Our byte-level BPE against Hugging Face's RobertaTokenizer on ../shared/fixtures/bpe-gpt2 (real GPT-2
/// vocabulary and merges, 65 texts and 10 pairs chosen for edge cases): ids must be identical for 100 %
/// of them, and decoding must give back what HF's decode gives.
/// </summary>
[TestClass]
public sealed class HuggingFaceTokenizerParityTests
{
    private static readonly Lazy<RobertaTokenizer> Tokenizer = new(() => RobertaTokenizer.FromFolder(SharedData.RequirePath("fixtures", "bpe-gpt2")));

    private static JsonElement Json(string file) =>
        JsonDocument.Parse(File.ReadAllText(SharedData.RequirePath("fixtures", "bpe-gpt2", file))).RootElement;

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32()).ToArray();

    [TestMethod]
    public void EveryTextEncodesAndDecodesLikeHuggingFace()
    {
        var texts = Json("texts.json").GetProperty("texts").EnumerateArray().ToList();
        var expected = Json("expected.json").GetProperty("texts").EnumerateArray().ToList();
        Assert.AreEqual(65, texts.Count);
        var failures = new List<string>();
        for (var k = 0; k < texts.Count; k++)
        {
            var name = texts[k].GetProperty("name").GetString()!;
            var text = texts[k].GetProperty("text").GetString()!;
            var want = expected[k];
            Assert.AreEqual(name, want.GetProperty("name").GetString());
            var ids = Tokenizer.Value.Encode(text);
            if (!ids.SequenceEqual(Ints(want.GetProperty("input_ids")))) failures.Add($"{name}: ids");
            var bpe = Tokenizer.Value.Tokenize(text);
            if (!bpe.SequenceEqual(Ints(want.GetProperty("bpe_ids")))) failures.Add($"{name}: bpe ids");
            if (!Tokenizer.Value.TokenStrings(text).SequenceEqual(want.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!))) failures.Add($"{name}: tokens");
            if (Tokenizer.Value.Decode(bpe) != want.GetProperty("decoded").GetString()) failures.Add($"{name}: decode");
            if (Tokenizer.Value.Decode(ids) != want.GetProperty("decoded_with_special").GetString()) failures.Add($"{name}: decode with specials");
            if (Tokenizer.Value.Decode(ids, skipSpecialTokens: true) != want.GetProperty("decoded_skip_special").GetString()) failures.Add($"{name}: decode skipping specials");
        }
        Assert.AreEqual(0, failures.Count, string.Join("; ", failures));
    }

    [TestMethod]
    public void EveryPairEncodesLikeHuggingFace()
    {
        var pairs = Json("texts.json").GetProperty("pairs").EnumerateArray().ToList();
        var expected = Json("expected.json").GetProperty("pairs").EnumerateArray().ToList();
        Assert.AreEqual(10, pairs.Count);
        for (var k = 0; k < pairs.Count; k++)
        {
            var ids = Tokenizer.Value.EncodePair(pairs[k].GetProperty("a").GetString()!, pairs[k].GetProperty("b").GetString()!);
            CollectionAssert.AreEqual(Ints(expected[k].GetProperty("input_ids")), ids, pairs[k].GetProperty("name").GetString());
            Assert.AreEqual(expected[k].GetProperty("decoded_with_special").GetString(), Tokenizer.Value.Decode(ids));
        }
    }
}
