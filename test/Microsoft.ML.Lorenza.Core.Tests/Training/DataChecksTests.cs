using Microsoft.ML.Lorenza.Modeling;
using System.Text;
using Microsoft.ML.Lorenza.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Microsoft.ML.Lorenza.Datasets;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Tests.Training;

/// <summary>Header detection that cannot turn data into a header, and the label and length checks (in process; the CLI's lines are in BadInputTableTests).</summary>
[TestClass]
public sealed class DataChecksTests
{
    private static string Rows(int count, Func<int, string> label) =>
        string.Concat(Enumerable.Range(0, count).Select(i => $"{(i % 2 == 0 ? "good fine film" : "bad awful film")} {i}\t{label(i)}\n"));

    private static TextDataset LoadText(string text, ColumnSpec columns)
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("lorenza-data-").FullName, "data.tsv");
        try
        {
            File.WriteAllText(file, text);
            return TextDataset.Load(file, columns);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(file)!, true);
        }
    }

    [TestMethod]
    public void HeaderlessFile_WhoseFirstLabelIs0_ByIndex_TrainsOnTheText()
    {
        var data = LoadText(Rows(40, i => (i % 2).ToString()), new ColumnSpec("0", "1"));
        Assert.AreEqual(40, data.Examples.Count, "line 1 is data");
        Assert.AreEqual(new TextExample("good fine film 0", null, "0"), data.Examples[0]);
        StringAssert.Contains(data.Notes.Single(), "line 1 read as data (no header); pass --has-header true if it is a header.");

        var (classifier, report) = TextClassifierTrainer.Train(data, null, new TrainingOptions { Model = { Preset = ModelPreset.Tiny, TokenizerMerges = 30 }, Loop = { Epochs = 1, MaxSteps = 2, BatchSize = 16 }, Compute = { Device = "cpu" } });
        using (classifier)
        {
            CollectionAssert.AreEqual(new[] { "0", "1" }, classifier.Labels.ToArray());
            Assert.AreEqual(36, report.TrainExamples);
            Assert.IsTrue(classifier.Tokenizer.EncodeSequence("good fine film", null, 16).Length < 10, "the vocabulary was learned from the texts, not the labels");
        }
    }

    [TestMethod]
    public void HeaderedFile_ByIndex_ReadsTheHeader_WithoutAFakeClass()
    {
        var data = LoadText("text\tlabel\n" + Rows(40, i => i % 2 == 0 ? "pos" : "neg"), new ColumnSpec("0", "1"));
        Assert.AreEqual(40, data.Examples.Count);
        CollectionAssert.AreEquivalent(new[] { "neg", "pos" }, data.Examples.Select(e => e.Label).Distinct().ToArray(), "no class 'label'");
        StringAssert.Contains(data.Notes.Single(), "line 1 read as a header (its label field 'label' is the label of no other row); pass --has-header false if it is data.");

        // Said explicitly, --has-header wins and nothing needs saying.
        var forced = LoadText(Rows(40, i => (i % 2).ToString()), new ColumnSpec("0", "1", HasHeader: true));
        Assert.AreEqual(39, forced.Examples.Count);
        Assert.IsEmpty(forced.Notes);
        // Columns by name imply a header.
        Assert.AreEqual(40, LoadText("text\tlabel\n" + Rows(40, i => (i % 2).ToString()), new ColumnSpec("text", "label")).Examples.Count);
    }

    [TestMethod]
    public void Utf8WithBomAndCrLf_IsRead_AsTheSameText()
    {
        var text = "text\tlabel\r\ncafé crème\tpos\r\nbad\tneg\r\n";
        var data = LoadText(Encoding.UTF8.GetString([0xEF, 0xBB, 0xBF]) + text, new ColumnSpec("text", "label"));
        Assert.AreEqual(new TextExample("café crème", null, "pos"), data.Examples[0]);
        Assert.AreEqual("neg", data.Examples[1].Label);
    }

    [TestMethod]
    public void ContinuousLookingLabels_AreRefused_UnlessSaidToBeClasses()
    {
        var floats = TextDataset.FromExamples(Enumerable.Range(0, 60).Select(i => new TextExample($"film {i}", null, (i * 0.37).ToString("F2", System.Globalization.CultureInfo.InvariantCulture))), "scores");
        var error = Assert.ThrowsExactly<InvalidDataException>(() => DataChecks.LabelsLookLikeClasses(floats, labelsAreClasses: false));
        StringAssert.Contains(error.Message, "scores: the label column has 60 distinct numeric values (0.00, 0.37, 0.74, …)");
        DataChecks.LabelsLookLikeClasses(floats, labelsAreClasses: true);
        // The trainer applies it (and the override) before anything else.
        Assert.ThrowsExactly<InvalidDataException>(() => TextClassifierTrainer.Train(floats, null, new TrainingOptions { Model = { Preset = ModelPreset.Tiny }, Compute = { Device = "cpu" } }));

        // Star ratings and small integer classes are classes.
        var stars = TextDataset.FromExamples(Enumerable.Range(0, 60).Select(i => new TextExample($"film {i}", null, (1 + i % 5).ToString())));
        DataChecks.LabelsLookLikeClasses(stars, labelsAreClasses: false);
        var topics = TextDataset.FromExamples(Enumerable.Range(0, 60).Select(i => new TextExample($"film {i}", null, (i % 20).ToString())));
        DataChecks.LabelsLookLikeClasses(topics, labelsAreClasses: false);
    }

    [TestMethod]
    public void MaxLengthBeyondThePositionTable_IsRefused_ForPresetsAndPretrainedModels()
    {
        var preset = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new TrainingOptions { Model = { Preset = ModelPreset.Tiny }, Data = { MaxSequenceLength = 100_000 } }.Validate());
        StringAssert.Contains(preset.Message, "100000 exceeds the 512 positions of the 'tiny' preset; use --max-length 512 or less");
        new TrainingOptions { Model = { Preset = ModelPreset.Tiny }, Data = { MaxSequenceLength = 512 } }.Validate();
        var pretrained = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => DataChecks.MaxSequenceLength(600, 512, "roberta-base"));
        StringAssert.Contains(pretrained.Message, "exceeds the 512 positions of roberta-base");
    }
}
