using System.Text.Json.Nodes;
using Microsoft.ML.Lorenza.Configuration;
using Microsoft.ML.Lorenza.Datasets;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.ML.Lorenza.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;

namespace Microsoft.ML.Lorenza.Tests.Training;

/// <summary>
/// Example weights from a data file's column and class weights: read and checked before training (one line naming the
/// value, the row and the fix), through the CLI (--weight-col, --class-weights) into lorenza.json, and through a checkpoint.
/// </summary>
[TestClass]
public sealed class ExampleWeightsTests
{
    private static readonly string Rows = string.Concat(Enumerable.Range(0, 48).Select(i =>
        i % 4 == 0 ? $"bad awful film {i}\tneg\t{(i % 8 == 0 ? "2" : "0.5")}\n" : $"good fine film {i}\tpos\t1\n"));

    private static string Write(string folder, string rows, string name = "data.tsv")
    {
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, "text\tlabel\tw\n" + rows);
        return path;
    }

    [TestMethod]
    public void AWeightColumn_IsRead_AndBadWeightsAreRefused_NamingLineValueAndFix()
    {
        var folder = Directory.CreateTempSubdirectory("lorenza-weights-").FullName;
        try
        {
            var data = TextDataset.Load(Write(folder, Rows), new ColumnSpec("text", "label", Weight: "w"));
            CollectionAssert.AreEqual(new[] { 2f, 1, 1, 1, 0.5f }, data.Examples.Take(5).Select(e => e.Weight).ToArray());
            Assert.IsTrue(TextDataset.Load(Write(folder, Rows), new ColumnSpec("text", "label")).Examples.All(e => e.Weight == 1), "no weight column: all 1");

            void Refused(string rows, string message, string column = "w")
            {
                var e = Assert.Throws<Exception>(() => TextDataset.Load(Write(folder, rows), new ColumnSpec("text", "label", Weight: column)));
                StringAssert.Contains(e.Message, message);
            }
            var fix = "weights must be finite numbers >= 0 (e.g. 1 or 0.5); fix the value or drop the row";
            Refused("good\tpos\t1\nbad\tneg\t-1\n", $"data.tsv line 3: the weight -1 (column 'w') is negative; {fix}.");
            Refused("good\tpos\tNaN\nbad\tneg\t1\n", $"data.tsv line 2: the weight NaN (column 'w') is not a finite number; {fix}.");
            Refused("good\tpos\t1\nbad\tneg\tInfinity\n", "data.tsv line 3: the weight Infinity (column 'w') is not a finite number");
            Refused("good\tpos\theavy\nbad\tneg\t1\n", $"data.tsv line 2: the weight 'heavy' (column 'w') is not a number; {fix}.");
            Refused("good\tpos\t0\nbad\tneg\t0\n", "data.tsv: every weight (column 'w') is 0, so training would learn nothing; give some rows a weight > 0.");
            Refused("good\tpos\t1\n", "no weight column 'weight'. Available columns: 'text' (0), 'label' (1), 'w' (2)", column: "weight");
            Refused("good\tpos\t1\n", "the label column 'label' and the weight column 'label' are the same column", column: "label");

            // Data made in memory is checked by the engine, before a model is built.
            var memory = TextDataset.FromExamples([new("good", null, "pos"), new("bad", null, "neg", float.NaN)]);
            var engine = Assert.Throws<InvalidDataException>(() => { TextClassifierTrainer.Train(memory, null, Tiny()); });
            StringAssert.Contains(engine.Message, "memory row 1: the weight NaN (TextExample.Weight) is not a finite number");
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [TestMethod]
    public void Cli_ClassWeightsAndWeightColumn_Train_SayEvaluationIsUnweighted_AndAreRecorded()
    {
        var folder = Directory.CreateTempSubdirectory("lorenza-weights-cli-").FullName;
        try
        {
            var data = Write(folder, Rows);
            var model = Path.Combine(folder, "model");
            var (code, stdout, stderr) = Cli.Run($"train \"{data}\" --weight-col w --class-weights balanced --preset tiny --tokenizer-merges 50 --max-length 16 " +
                                                 $"--batch-size 8 --max-steps 3 --validation-fraction 0.25 --seed 2 --device cpu -o \"{model}\"");
            Assert.AreEqual(0, code, stderr);
            StringAssert.Contains(stdout, "weighted training loss: balanced class weights (inverse class frequency) × example weights from column 'w', " +
                                          "the mean Σ wᵢ·ℓᵢ / Σ wᵢ per batch; evaluation metrics are unweighted.");
            var options = JsonNode.Parse(File.ReadAllText(Path.Combine(model, "lorenza.json")))!["options"]!;
            Assert.AreEqual("Balanced", options["ClassWeights"]!.GetValue<string>());
            Assert.IsTrue(options["ExampleWeights"]!.GetValue<bool>());
            var (neg, pos) = (options["ClassWeightValues"]!["neg"]!.GetValue<double>(), options["ClassWeightValues"]!["pos"]!.GetValue<double>());
            Assert.IsTrue(neg > 1.5 && pos < 0.8, $"the minority class weighs more: neg {neg}, pos {pos}");

            (code, _, stderr) = Cli.Run($"train \"{data}\" --class-weights inverse -o \"{model}\"");
            Assert.AreEqual(2, code);
            StringAssert.Contains(stderr, "--class-weights 'inverse' is unknown: use none or balanced.");
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [TestMethod]
    public void AWeightedRun_ResumedFromItsCheckpoint_EqualsTheUninterruptedRun_AndOtherWeightsAreRefused()
    {
        var folder = Directory.CreateTempSubdirectory("lorenza-weights-resume-").FullName;
        try
        {
            var data = TextDataset.Load(Write(folder, Rows), new ColumnSpec("text", "label", Weight: "w"));
            var straight = Parameters(TextClassifierTrainer.Train(data, null, Tiny(folder)).Classifier);

            using var cancel = new CancellationTokenSource();
            // 36 training rows in batches of 8: 5 steps an epoch; cancelled after step 3, saved at the batch not yet run.
            var stopAt3 = new Progress(p => { if (p.Step == 3) cancel.Cancel(); });
            Assert.Throws<OperationCanceledException>(() => { TextClassifierTrainer.Train(data, null, Tiny(folder, checkpointEvery: 100), stopAt3, cancel.Token); });
            var resumedOptions = Tiny(folder, checkpointEvery: 100);
            resumedOptions.Loop.Resume = true;
            var resumed = Parameters(TextClassifierTrainer.Train(data, null, resumedOptions).Classifier);
            for (var i = 0; i < straight.Count; i++)
                CollectionAssert.AreEqual(straight[i], resumed[i], $"parameter {i} after resuming at step 3");

            // The checkpoint of step 3 is still there: resuming it without the class weights is refused.
            var otherWeights = Tiny(folder, checkpointEvery: 100);
            (otherWeights.Loop.Resume, otherWeights.Data.ClassWeights) = (true, ClassWeighting.None);
            var refused = Assert.Throws<InvalidDataException>(() => { TextClassifierTrainer.Train(data, null, otherWeights); });
            StringAssert.Contains(refused.Message, "different data or options");
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    private static TrainingOptions Tiny(string? checkpoints = null, int? checkpointEvery = null) => new()
    {
        Model = { Preset = ModelPreset.Tiny, TokenizerMerges = 50 },
        Data = { MaxSequenceLength = 16, ValidationFraction = 0.25, ClassWeights = ClassWeighting.Balanced },
        Loop = { Epochs = 2, BatchSize = 8, Seed = 4, CheckpointDirectory = checkpoints, CheckpointEvery = checkpointEvery },
        Compute = { Device = "cpu" },
    };

    private static List<float[]> Parameters(Microsoft.ML.Lorenza.Inference.TextClassifier classifier)
    {
        using (classifier) return classifier.Model.parameters().Select(p => p.detach().cpu().data<float>().ToArray()).ToList();
    }

    private sealed class Progress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
