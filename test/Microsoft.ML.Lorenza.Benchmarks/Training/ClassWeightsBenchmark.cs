using System.Globalization;
using Microsoft.ML.Lorenza.Configuration;
using Microsoft.ML.Lorenza.Datasets;
using Microsoft.ML.Lorenza.Training;

namespace Microsoft.ML.Lorenza.Benchmarks.Training;

/// <summary>
/// Class weights on imbalanced data (issue #29): MiniLM fine-tuned with LORENZA on SST-2 training rows with the negative class
/// subsampled to 1 in <c>ratio</c> + 1 (10 : 1 by default: the first positives and the first negatives of train.tsv), with
/// <see cref="ClassWeighting.None"/> and <see cref="ClassWeighting.Balanced"/>, over several seeds; the final model's macro-F1,
/// minority (negative) recall and accuracy on SST-2's dev set (balanced, 872 rows), evaluated once after training. The
/// short-run settings of `bench compare --pretrained` (docs/benchmarks.md, "Fine-tuning MiniLM, measured"): lr 3e-4, α = 2, T = 50;
/// at the engine's 1e-4 both arms predicted only the majority class in 75 steps. Options: --train N (400), --ratio R (10),
/// --seeds N (3), --epochs N (3), --batch N (16), --max-length N (64), --lr X (3e-4), --dev N (872), --model NAME (minilm);
/// --quick: the tiny preset from scratch on 120 rows, 1 seed, 200 dev rows.
/// </summary>
public sealed class ClassWeightsBenchmark : IBenchmark
{
    private const string Minority = "0";

    public string Name => "class-weights";
    public string Description => "SST-2 with negatives subsampled to 10:1: macro-F1 and minority recall with --class-weights none vs balanced, 3 seeds";

    private sealed record WeightedRun(string Weights, int Seed, double MacroF1, double MinorityRecall, double MajorityRecall, double Accuracy, double Minutes);

    public void Run(BenchmarkContext context)
    {
        var shared = BenchmarkContext.SharedRoot ?? throw new InvalidOperationException("../shared/data is needed (SST-2).");
        var quick = context.Quick;
        var (trainRows, ratio, seeds) = (context.Int("--train", quick ? 120 : 400), context.Int("--ratio", 10), context.Int("--seeds", quick ? 1 : 3));
        var (epochs, batch, maxLength, devRows) = (context.Int("--epochs", 3), context.Int("--batch", 16), context.Int("--max-length", 64), context.Int("--dev", quick ? 200 : 872));
        var model = quick ? null : context.Value("--model", "minilm");
        var learningRate = double.Parse(context.Value("--lr", "3e-4"), CultureInfo.InvariantCulture);

        var all = TextDataset.Load(Path.Combine(shared, "data", "sst2", "train.tsv"), new("sentence", "label"));
        var minorityRows = (int)Math.Round((double)trainRows / (ratio + 1));
        var train = TextDataset.FromExamples([.. all.Examples.Where(e => e.Label != Minority).Take(trainRows - minorityRows), .. all.Examples.Where(e => e.Label == Minority).Take(minorityRows)], "sst2 train (imbalanced)");
        var dev = TextDataset.FromExamples(TextDataset.Load(Path.Combine(shared, "data", "sst2", "dev.tsv"), new("sentence", "label")).Examples.Take(devRows), "sst2 dev");
        var settings = string.Create(CultureInfo.InvariantCulture,
            $"{(model is null ? "tiny RoBERTa from scratch" : model)} with LORENZA (lr {learningRate:0.#e0} linear, rank 8, α = 2, T = 50, ρ = 0.05), {epochs} epoch(s), batch {batch}, length ≤ {maxLength}, CPU; " +
            $"SST-2 train: {train.Examples.Count} rows, {minorityRows} negative (minority) : {train.Examples.Count - minorityRows} positive; dev: {dev.Examples.Count} rows " +
            $"({dev.Examples.Count(e => e.Label == Minority)} negative); {seeds} seed(s)");
        Console.WriteLine(settings);

        var runs = new List<WeightedRun>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        foreach (var seed in Enumerable.Range(0, seeds))
            foreach (var weighting in new[] { ClassWeighting.None, ClassWeighting.Balanced })
            {
                var options = new TrainingOptions
                {
                    Model = { PretrainedModelPath = model, Preset = model is null ? ModelPreset.Tiny : null },
                    Data = { MaxSequenceLength = maxLength, ClassWeights = weighting, ValidationFraction = 0 },
                    Optimizer = { LearningRate = learningRate, Scale = 2, RefreshInterval = 50 },
                    Loop = { Epochs = epochs, BatchSize = batch, Seed = (ulong)seed },
                    Compute = { Device = "cpu" },
                };
                var started = clock.Elapsed;
                // Dev is evaluated once, at the end (per epoch the trainer measures the training rows only).
                var (classifier, _) = TextClassifierTrainer.Train(train, null, options);
                ClassificationMetrics metrics;
                using (classifier) metrics = TextClassifierTrainer.Evaluate(classifier, dev.Examples, LabelMapOf(classifier).IdsOf(dev));
                var run = new WeightedRun(weighting.ToString().ToLowerInvariant(), seed, metrics.MacroF1, metrics.PerClass.Single(c => c.Label == Minority).Recall,
                    metrics.PerClass.Single(c => c.Label != Minority).Recall, metrics.Accuracy, (clock.Elapsed - started).TotalMinutes);
                runs.Add(run);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  [{clock.Elapsed:hh\\:mm\\:ss}] {run.Weights} seed {seed}: macro-F1 {run.MacroF1:F3}, minority recall {run.MinorityRecall:P1}, majority recall {run.MajorityRecall:P1}, accuracy {run.Accuracy:P1}"));
                context.Save(new { settings, complete = false, runs }, quiet: true);
            }

        var table = new List<string[]> { new[] { "class weights", "seeds", "macro-F1", "minority (negative) recall", "majority recall", "accuracy" } };
        foreach (var g in runs.GroupBy(r => r.Weights))
            table.Add([g.Key, g.Count().ToString(CultureInfo.InvariantCulture), MeanSd(g.Select(r => r.MacroF1), 1, "F3"),
                MeanSd(g.Select(r => r.MinorityRecall), 100, "F1"), MeanSd(g.Select(r => r.MajorityRecall), 100, "F1"), MeanSd(g.Select(r => r.Accuracy), 100, "F1")]);
        BenchmarkContext.PrintTable(table);
        context.Save(new { settings, complete = true, runs, wall_minutes = clock.Elapsed.TotalMinutes });
        Console.WriteLine($"total {clock.Elapsed.TotalMinutes:F1} min");
    }

    private static LabelMap LabelMapOf(Inference.TextClassifier classifier) => new(classifier.Labels);

    private static string MeanSd(IEnumerable<double> values, double scale, string format)
    {
        var v = values.ToArray();
        var mean = v.Average();
        var text = (mean * scale).ToString(format, CultureInfo.InvariantCulture);
        if (v.Length < 2) return text;
        var sd = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
        return text + " ± " + (sd * scale).ToString(format, CultureInfo.InvariantCulture);
    }
}
