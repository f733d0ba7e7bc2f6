using System.Diagnostics;
using Microsoft.ML.Lorenza.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Text;

/// <summary>Formats, truncation, padding, speed on hostile input, thread safety and bad files, on a small trained vocabulary.</summary>
[TestClass]
public sealed class TokenizerBehaviourTests
{
    private static readonly string[] Corpus =
    [
        "the movie was great and the acting was wonderful",
        "the food was terrible and the service was slow",
        "I didn't like it, but my friend's review was positive!",
        "numbers like 2019 and 3.14 appear too",
    ];

    private static readonly Lazy<RobertaTokenizer> Small = new(() => BpeTrainer.Train(Corpus, merges: 60));

    [TestMethod]
    public void TrainedVocabularyFollowsRobertaSpecialIdsAndRoundTrips()
    {
        var t = Small.Value;
        Assert.AreEqual((0, 1, 2, 3), (t.BosId, t.PadId, t.EosId, t.UnkId));
        foreach (var text in Corpus.Append("unseen wörds 🚀 still round-trip"))
            Assert.AreEqual(text, t.Decode(t.Tokenize(text)), "byte-level BPE is lossless");
        Assert.IsTrue(t.Tokenize("the movie was great").Length < "the movie was great".Length, "merges shorten frequent words");
        CollectionAssert.AreEqual(BpeTrainer.Train(Corpus, 60).Tokenize(Corpus[2]), t.Tokenize(Corpus[2]), "training is deterministic");
    }

    [TestMethod]
    public void SingleAndPairFormatsWithTruncation()
    {
        var t = Small.Value;
        var a = t.Tokenize("the movie was great");
        var b = t.Tokenize("the food was terrible and the service was slow");
        CollectionAssert.AreEqual(new[] { t.BosId }.Concat(a).Append(t.EosId).ToArray(), t.Encode("the movie was great"));
        var pair = t.EncodePair("the movie was great", "the food was terrible and the service was slow");
        CollectionAssert.AreEqual(new[] { t.BosId }.Concat(a).Append(t.EosId).Append(t.EosId).Concat(b).Append(t.EosId).ToArray(), pair);

        Assert.AreEqual(6, t.Encode("the movie was great and more", maxLength: 6).Length);
        var truncated = t.EncodePair("the movie was great", "the food was terrible and the service was slow", maxLength: 12);
        Assert.AreEqual(12, truncated.Length);
        // Longest first: b loses tokens until it is no longer than a, then they alternate.
        var kept = truncated.Length - 4;
        Assert.IsTrue(Math.Min(a.Length, kept / 2) <= truncated.Skip(1).TakeWhile(id => id != t.EosId).Count());
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => t.EncodePair("a", "b", maxLength: 4));
    }

    [TestMethod]
    public void BatchesArePaddedWithMasks()
    {
        var t = Small.Value;
        var batch = t.EncodeBatch(["the movie", "the food was terrible and slow"], null, maxLength: 64);
        Assert.AreEqual(2, batch.BatchSize);
        var shortLength = t.Encode("the movie").Length;
        Assert.AreEqual(t.Encode("the food was terrible and slow").Length, batch.SequenceLength);
        Assert.AreEqual(shortLength, batch.AttentionMask.Take(batch.SequenceLength).Sum());
        Assert.IsTrue(batch.InputIds.Skip(shortLength).Take(batch.SequenceLength - shortLength).All(id => id == t.PadId));
        Assert.ThrowsExactly<ArgumentException>(() => t.EncodeBatch(["a", "b"], ["c"], 16));
    }

    [TestMethod]
    [Timeout(20_000, CooperativeCancellation = true)]
    public void HostileInputsStayLinear()
    {
        var t = Small.Value;
        var watch = Stopwatch.StartNew();
        Assert.AreEqual(200_000 + 2, t.Encode(new string(' ', 200_000)).Length); // no 'ĠĠ' merge: one token per space
        t.Tokenize(new string('x', 20_000));
        t.Tokenize(string.Concat(Enumerable.Repeat("a \t\n", 50_000)));
        Assert.IsTrue(watch.Elapsed < TimeSpan.FromSeconds(15), $"took {watch.Elapsed}");
    }

    [TestMethod]
    public void ParallelEncodingMatchesSequential()
    {
        var t = BpeTrainer.Train(Corpus, 60);
        var inputs = Enumerable.Range(0, 400).Select(i => $"{Corpus[i % Corpus.Length]} #{i} {new string('z', i % 13)}").ToArray();
        var sequential = inputs.Select(s => t.Encode(s)).ToArray();
        var parallel = new int[inputs.Length][];
        Parallel.For(0, inputs.Length, i => parallel[i] = t.Encode(inputs[i]));
        for (var i = 0; i < inputs.Length; i++) CollectionAssert.AreEqual(sequential[i], parallel[i]);
    }

    [TestMethod]
    public void BadFilesGiveClearErrors()
    {
        var dir = Directory.CreateTempSubdirectory("lorenza-tok-").FullName;
        try
        {
            var vocab = Path.Combine(dir, "vocab.json");
            var merges = Path.Combine(dir, "merges.txt");
            var missing = Assert.ThrowsExactly<FileNotFoundException>(() => RobertaTokenizer.FromFiles(vocab, merges));
            StringAssert.Contains(missing.Message, vocab);

            File.WriteAllText(vocab, "{ not json");
            File.WriteAllText(merges, "#version: 0.2\n");
            StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => RobertaTokenizer.FromFiles(vocab, merges)).Message, "vocab.json");

            File.WriteAllText(vocab, """{"<s>":0,"<pad>":1,"</s>":2,"<unk>":3,"<mask>":4,"a":5,"b":6}""");
            File.WriteAllText(merges, "#version: 0.2\na b c\n");
            StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => RobertaTokenizer.FromFiles(vocab, merges)).Message, "line 2");
            File.WriteAllText(merges, "#version: 0.2\na b\n");
            StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => RobertaTokenizer.FromFiles(vocab, merges)).Message, "'ab' is not in the vocabulary");

            File.WriteAllText(vocab, """{"a":0,"b":1}""");
            File.WriteAllText(merges, "#version: 0.2\n");
            StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => RobertaTokenizer.FromFiles(vocab, merges)).Message, "<s>");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [TestMethod]
    public void SavedVocabularyLoadsBackIdentically()
    {
        var dir = Directory.CreateTempSubdirectory("lorenza-tok-").FullName;
        try
        {
            Small.Value.SaveTo(dir);
            var loaded = RobertaTokenizer.FromFolder(dir);
            foreach (var text in Corpus) CollectionAssert.AreEqual(Small.Value.Encode(text), loaded.Encode(text));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
