using Microsoft.ML.Lorenza.Onnx.Proto;
using Microsoft.ML.Lorenza.Pretrained;
using Microsoft.ML.Lorenza.Text;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.BadInputs;

/// <summary>
/// The fuzz targets' files in the repository (test/Microsoft.ML.Lorenza.Fuzz): one seed corpus per reader, none for a
/// reader that is gone, and every input a fuzzing session found (regressions/&lt;target&gt;/crash-… or hang-…) replayed
/// through the contract of <see cref="ReaderContract"/>, so a finding stays fixed.
/// </summary>
[TestClass]
public sealed class FuzzCorpusTests
{
    private static readonly string FuzzFolder = Path.Combine(SharedData.RepoRoot, "test", "Microsoft.ML.Lorenza.Fuzz");

    [TestMethod]
    public void EveryReaderHasASeedCorpus_AndEveryCorpusAReader()
    {
        using var seeds = new ReaderSeeds();
        var targets = seeds.Readers.Select(r => r.Target).ToList();
        Assert.AreEqual(targets.Count, targets.Distinct().Count(), "target names are unique");
        var corpora = Directory.GetDirectories(Path.Combine(FuzzFolder, "corpus")).Select(Path.GetFileName).ToList();
        CollectionAssert.AreEquivalent(targets, corpora,
            "test/Microsoft.ML.Lorenza.Fuzz/corpus has one folder per reader; after adding or renaming a reader, run the fuzz app's `seeds` command");
    }

    [TestMethod]
    public void SeedsAndFoundInputs_KeepTheContract()
    {
        using var seeds = new ReaderSeeds();
        var failures = new List<string>();
        var replayed = 0;
        foreach (var reader in seeds.Readers)
        {
            var path = Path.Combine(reader.Folder, reader.File);
            var original = File.ReadAllBytes(path);
            var inputs = new[] { "corpus", "regressions" }.Select(kind => Path.Combine(FuzzFolder, kind, reader.Target))
                .Where(Directory.Exists).SelectMany(Directory.GetFiles).Order(StringComparer.Ordinal).ToList();
            try
            {
                foreach (var input in inputs)
                {
                    File.Copy(input, path, overwrite: true);
                    replayed++;
                    var (problem, refused) = ReaderContract.Check(reader, TimeSpan.FromSeconds(10));
                    var isSeed = input.Contains($"{Path.DirectorySeparatorChar}corpus{Path.DirectorySeparatorChar}", StringComparison.Ordinal);
                    if (problem is not null) failures.Add($"{Path.GetRelativePath(FuzzFolder, input)}: {problem}");
                    else if (isSeed && refused) failures.Add($"{Path.GetRelativePath(FuzzFolder, input)}: a seed must be a valid file, but it was refused");
                }
            }
            finally
            {
                File.WriteAllBytes(path, original);
            }
        }
        Console.WriteLine($"{replayed} corpus and regression inputs replayed over {seeds.Readers.Count} readers");
        Assert.IsGreaterThanOrEqualTo(seeds.Readers.Count, replayed, "at least one seed per reader");
        Assert.IsEmpty(failures, string.Join("\n", failures));
    }

    /// <summary>Found by AFL on tokenizer.json (BPE), 2026-12-04 (regressions/tokenizer-json-bpe/crash-c6b1a1b85b4b).</summary>
    [TestMethod]
    public void ALoneSurrogateEscapeInAKey_IsRefusedAsInvalidJson()
    {
        var e = Assert.ThrowsExactly<InvalidDataException>(() => JsonFile.ParseObject("{\"model\": {\"\\uDDDD\": 1, \"b\": 2}}", "tokenizer.json"));
        StringAssert.StartsWith(e.Message, "tokenizer.json is not valid JSON (");
        Assert.IsFalse(e.Message.Contains('\n'), e.Message);
    }

    /// <summary>
    /// Found by AFL on vocab.txt, 2026-12-05 (regressions/vocab-txt/crash-2d825614d05d, crash-df2919e19d93): a line holding a
    /// lone '\r' ("#\ro") is one token, as Hugging Face's fast tokenizer reads it, but Microsoft.ML.Tokenizers read it as two
    /// lines, shifting every later id by one, and threw ArgumentException when the second half repeated a token.
    /// </summary>
    [TestMethod]
    public void AVocabTxtLineWithALoneCarriageReturn_ShiftsNoId_AndRepeatedOrBlankTokensLoad()
    {
        string[] lines = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "o", "#\ro", "", "good", " film", "film", "o", "##s"];
        var folder = Directory.CreateTempSubdirectory("lorenza-vocab-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, BertWordPieceTokenizer.VocabFile), string.Join("\n", lines) + "\n");
            var tokenizer = BertWordPieceTokenizer.FromFolder(folder);
            // [CLS] good film o films [SEP]: ids are line numbers; the repeated "o" is its last line, as in Hugging Face.
            CollectionAssert.AreEqual(new[] { 2, 8, 10, 11, 10, 12, 3 }, tokenizer.Encode("good film o films"));
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    /// <summary>Found by AFL on vocab.json, 2026-12-05 (regressions/vocab-json/crash-e9938480557c): the parser's message quotes a key holding a line break.</summary>
    [TestMethod]
    public void AVocabJsonKeyWithALineBreak_IsRefusedInOneLine()
    {
        var folder = Directory.CreateTempSubdirectory("lorenza-vocab-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, RobertaTokenizer.VocabFile), "{\"\\n003C02n\":42,\"yu\",\"\\uDDDD\":1}");
            File.WriteAllText(Path.Combine(folder, RobertaTokenizer.MergesFile), "#version: 0.2\n");
            var e = Assert.ThrowsExactly<InvalidDataException>(() => RobertaTokenizer.FromFolder(folder));
            StringAssert.Contains(e.Message, "is not a JSON object of token → id: ");
            StringAssert.Contains(e.Message, "\\n003C02n", "the line break written as an escape");
            Assert.IsFalse(e.Message.Contains('\n'), e.Message);

            File.WriteAllText(Path.Combine(folder, RobertaTokenizer.VocabFile), "{\"\\uDDDD\": 0}");
            Assert.ThrowsExactly<InvalidDataException>(() => RobertaTokenizer.FromFolder(folder), "a lone surrogate escape");
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    /// <summary>
    /// Found by AFL on the pretrained converter's model.onnx, 2026-12-05 (regressions/model-onnx-pretrained-converter): a
    /// MatMul without outputs threw ArgumentOutOfRangeException, and a name holding a line break made a message of two lines.
    /// </summary>
    [TestMethod]
    public void AnOnnxNodeWithoutOutputs_AndANameWithALineBreak_AreRefusedInOneLine()
    {
        var seed = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "BadInputs", "TinyBertOnnx", "tiny-bert.onnx"));
        Assert.AreEqual(2, OnnxBertConverter.Convert(seed, "tiny-bert").Config.NumHiddenLayers, "the seed converts");

        var noOutputs = ModelProto.Parser.ParseFrom(seed);
        noOutputs.Graph.Node.First(n => n.OpType == "MatMul" && n.Input.Any(i => i.StartsWith("onnx::MatMul", StringComparison.Ordinal))).Output.Clear();
        var e = Assert.ThrowsExactly<InvalidDataException>(() => OnnxBertConverter.Convert(noOutputs, "tiny-bert"));
        StringAssert.Contains(e.Message, "stays unnamed: its MatMul's output feeds");

        var lineBreak = ModelProto.Parser.ParseFrom(seed);
        var bias = lineBreak.Graph.Initializer.First(i => i.Name == "encoder.layer.0.attention.self.query.bias");
        foreach (var node in lineBreak.Graph.Node)
            for (var i = 0; i < node.Input.Count; i++)
                if (node.Input[i] == bias.Name) node.Input[i] = "encoder.layer.0\nquery.b";
        bias.Name = "encoder.layer.0\nquery.b";
        e = Assert.ThrowsExactly<InvalidDataException>(() => OnnxBertConverter.Convert(lineBreak, "tiny-bert"));
        StringAssert.Contains(e.Message, "encoder.layer.0\\nquery");
        Assert.IsFalse(e.Message.Contains('\n'), e.Message);
    }
}
