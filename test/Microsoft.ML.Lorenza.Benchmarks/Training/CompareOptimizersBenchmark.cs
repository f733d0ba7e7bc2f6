using Microsoft.ML.Lorenza.Configuration;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Lorenza.Benchmarks.Training.Comparison;
using Microsoft.ML.Lorenza.Training;

namespace Microsoft.ML.Lorenza.Benchmarks.Training;

/// <summary>One training run (or one classical-baseline run) of the comparison.</summary>
public sealed record ComparisonRun(string Dataset, string Optimizer, int Seed, double Accuracy, double MacroF1, double PositiveF1, double Gap,
    double Sharpness, double SecondsPerStep, long PeakRssBytes, long StateBytes, double Alignment);

/// <summary>
/// LORENZA against its ablations and baselines with the same budget on real data (../shared/data), several seeds:
/// accuracy, macro-F1 (F1 of the paraphrase class for MRPC), train − validation gap, sharpness of the final weights,
/// step time relative to AdamW, peak resident memory, optimizer state and ascent alignment; ML.NET's FeaturizeText +
/// SdcaMaximumEntropy on the same splits as the classical baseline.
/// <c>--pretrained minilm</c> (or a Hugging Face folder) fine-tunes that encoder on SST-2, AG News, MRPC and RTE
/// (results in compare-pretrained.json); without it a tiny RoBERTa is trained from scratch on SST-2 and AG News.
/// Options: --seeds N, --train N (training rows per data set), --eval N (evaluation rows), --epochs N, --batch N,
/// --max-length N, --lr X (fine-tuning rate of AdamW, SAM, GaLore, LORENZA; LoRA 5×), --data a,b (of sst2, ag-news, mrpc, rte), --only a,b (method labels; AdamW always runs), --out NAME (results file name),
/// --precision auto|none|bf16 (the compute type; auto by default, as the product).
/// </summary>
public sealed class CompareOptimizersBenchmark : IBenchmark
{
    public string Name => "compare";
    public string Description => "accuracy, F1, gap, sharpness, step time, memory of LORENZA vs AdamW/SAM/GaLore/LoRA, ablations and ML.NET SDCA (--pretrained minilm: fine-tuning)";

    public void Run(BenchmarkContext context)
    {
        var shared = BenchmarkContext.SharedRoot ?? throw new InvalidOperationException("../shared/data is needed.");
        var args = context.Args;
        string? Text(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        int Number(string name, int fallback) => Text(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        var pretrained = Text("--pretrained");
        var quick = context.Quick;
        var seeds = Number("--seeds", quick ? 1 : pretrained is null ? 2 : 3);
        var trainSize = Number("--train", quick ? 200 : pretrained is null ? 3000 : 320);
        var evaluationSize = Number("--eval", quick ? 200 : pretrained is null ? 1000 : 300);
        var settings = new ComparisonSettings(pretrained is not null, pretrained is null ? null : PretrainedFolder(pretrained),
            Number("--epochs", quick ? 1 : pretrained is null ? 3 : 2), Number("--batch", pretrained is null ? 32 : 16), Number("--max-length", 64),
            Text("--lr") is { } rate ? double.Parse(rate, CultureInfo.InvariantCulture) : 1e-4,
            Enum.Parse<ComputePrecision>(Text("--precision") ?? "auto", ignoreCase: true));
        var dataNames = Text("--data")?.Split(',') ?? (pretrained is null ? ["sst2", "ag-news"] : [.. ComparisonData.Names]);
        var only = Text("--only")?.Split(',').ToHashSet();
        var known = ComparisonMethod.All.Concat(ComparisonMethod.Ablations).ToList();
        if (only is not null && only.Except(known.Select(c => c.Label)).ToList() is { Count: > 0 } unknown)
            throw new ArgumentException($"--only: unknown method(s) {string.Join(", ", unknown)}; known: {string.Join(", ", known.Select(c => c.Label))}.");
        var methods = only is null ? ComparisonMethod.All.ToList() : known.Where(m => m.Label == "adamw" || only.Contains(m.Label)).ToList();
        var classical = ClassicalBaseline.Program(out var noClassical);
        if (classical is null) Console.WriteLine($"  ML.NET baseline skipped: {noClassical}");

        Console.WriteLine(settings.Describe());
        Console.WriteLine($"{seeds} seed(s), {trainSize} training rows per data set, ≤ {evaluationSize} evaluation rows, data {string.Join(", ", dataNames)}");
        // A short discarded run first, so the first measured run's step time carries no start-up cost.
        var warmUp = settings.For(methods[0], 0);
        warmUp.Loop.MaxSteps = 3;
        var first = ComparisonData.Load(shared, dataNames[0], Math.Min(trainSize, 64), 16);
        TextClassifierTrainer.Train(first.Train, first.Evaluation, warmUp).Classifier.Dispose();

        var clock = Stopwatch.StartNew();
        var runs = new List<ComparisonRun>();
        var radii = new Dictionary<string, double>();
        // Seed-major, and the results file rewritten after each data set: a run stopped early still leaves every data set's
        // first seeds (marked "complete": false).
        var datasets = dataNames.Select(n => ComparisonData.Load(shared, n, trainSize, evaluationSize)).ToList();
        object Result(bool complete) => new
        {
            settings = settings.Describe(), seeds, train_rows = trainSize, evaluation_rows = evaluationSize, data = dataNames,
            sharpness_radius = radii, minutes = clock.Elapsed.TotalMinutes, complete, summary = Summarize(runs, radii).Summary, runs,
        };
        var fileName = Text("--out") ?? (pretrained is null ? null : "compare-pretrained");
        for (var seed = 0; seed < seeds; seed++)
        {
            foreach (var data in datasets)
            {
                foreach (var method in methods)
                {
                    var run = Train(data, method, settings, seed, radii);
                    runs.Add(run);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  [{clock.Elapsed:hh\\:mm\\:ss}] {data.Name} {method.Label} seed {seed}: accuracy {run.Accuracy:P1}, sharpness {run.Sharpness:F4}, {run.SecondsPerStep * 1e3:F0} ms/step"));
                }
                if (classical is not null)
                {
                    var baseline = ClassicalBaseline.Run(classical, data, seed);
                    runs.Add(new ComparisonRun(data.Name, "ml.net sdca", seed, baseline.Accuracy, baseline.MacroF1, baseline.PositiveF1,
                        double.NaN, double.NaN, double.NaN, 0, 0, double.NaN));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  [{clock.Elapsed:hh\\:mm\\:ss}] {data.Name} ml.net sdca seed {seed}: accuracy {baseline.Accuracy:P1}"));
                }
                context.Save(Result(complete: false), fileName, quiet: true);
            }
        }

        var (table, summary) = Summarize(runs, radii);
        Console.WriteLine($"total {clock.Elapsed.TotalMinutes:F1} min; sharpness radius per data set (fraction of each tensor's norm): "
            + string.Join(", ", radii.Select(r => $"{r.Key} {r.Value:0.###}")));
        BenchmarkContext.PrintTable(table);
        var json = context.Save(Result(complete: true), fileName);
        var svg = Path.ChangeExtension(json, ".svg");
        File.WriteAllText(svg, AccuracyChart.Render(runs));
        Console.WriteLine($"plot written to {svg}");
    }

    private static ComparisonRun Train(ComparisonData data, ComparisonMethod method, ComparisonSettings settings, int seed, Dictionary<string, double> radii)
    {
        ProcessMemory.ResetPeak();
        var (classifier, report) = TextClassifierTrainer.Train(data.Train, data.Evaluation, settings.For(method, (ulong)seed));
        using (classifier)
        {
            var peak = ProcessMemory.PeakRssBytes();
            if (!radii.TryGetValue(data.Name, out var radius)) radii[data.Name] = radius = SharpnessProbe.Calibrate(classifier, data.Evaluation, 0);
            var validation = report.Validation!;
            var positiveF1 = data.PositiveLabel is { } positive ? validation.PerClass.First(c => c.Label == positive).F1 : double.NaN;
            var last = report.Epochs[^1];
            return new ComparisonRun(data.Name, method.Label, seed, validation.Accuracy, validation.MacroF1, positiveF1, last.GeneralizationGap,
                SharpnessProbe.Measure(classifier, data.Evaluation, (ulong)seed, radius), report.SecondsPerStep, peak, report.OptimizerStateBytes,
                last.OptimizerDiagnostics.GetValueOrDefault("ascent_alignment", double.NaN));
        }
    }

    private static (List<string[]> Table, List<object> Summary) Summarize(List<ComparisonRun> runs, Dictionary<string, double> radii)
    {
        var table = new List<string[]> { new[] { "data", "method", "accuracy", "F1 / macro-F1", "gap", "sharpness", "step/AdamW", "peak RSS MB", "state MB", "ascent align" } };
        var summary = new List<object>();
        foreach (var group in runs.GroupBy(r => (r.Dataset, r.Optimizer)))
        {
            var adamw = runs.Where(r => r.Dataset == group.Key.Dataset && r.Optimizer == "adamw").Select(r => r.SecondsPerStep).DefaultIfEmpty(double.NaN).Average();
            var f1IsPositive = group.All(r => double.IsFinite(r.PositiveF1));
            double Mean(Func<ComparisonRun, double> f) => group.Select(f).Average();
            string MeanSd(Func<ComparisonRun, double> f, string format)
            {
                var values = group.Select(f).ToArray();
                if (values.Any(v => !double.IsFinite(v))) return "-";
                var mean = values.Average();
                var sd = BenchmarkContext.SampleSd(values);
                return values.Length > 1 ? $"{mean.ToString(format, CultureInfo.InvariantCulture)}±{sd.ToString(format, CultureInfo.InvariantCulture)}" : mean.ToString(format, CultureInfo.InvariantCulture);
            }
            var alignment = group.Select(r => r.Alignment).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average();
            var stepRatio = Mean(r => r.SecondsPerStep) / adamw;
            table.Add([group.Key.Dataset, group.Key.Optimizer, MeanSd(r => r.Accuracy, "F3"),
                (f1IsPositive ? "F1 " : "") + MeanSd(r => f1IsPositive ? r.PositiveF1 : r.MacroF1, "F3"), MeanSd(r => r.Gap, "F3"),
                MeanSd(r => r.Sharpness, "F3"), double.IsFinite(stepRatio) ? $"{stepRatio:F2}" : "-",
                group.Max(r => r.PeakRssBytes) is > 0 and var peak ? $"{peak / 1048576.0:F0}" : "-",
                group.Key.Optimizer == "ml.net sdca" ? "-" : $"{Mean(r => r.StateBytes) / 1048576.0:F1}", double.IsNaN(alignment) ? "-" : $"{alignment:F4}"]);
            summary.Add(new
            {
                dataset = group.Key.Dataset, method = group.Key.Optimizer, accuracy = Mean(r => r.Accuracy), accuracy_sd = Sd(group.Select(r => r.Accuracy)),
                macro_f1 = Mean(r => r.MacroF1), positive_f1 = f1IsPositive ? Mean(r => r.PositiveF1) : (double?)null,
                gap = Mean(r => r.Gap), sharpness = Mean(r => r.Sharpness), sharpness_radius = radii.GetValueOrDefault(group.Key.Dataset),
                step_ratio_vs_adamw = double.IsFinite(stepRatio) ? stepRatio : (double?)null, peak_rss_bytes = group.Max(r => r.PeakRssBytes),
                state_bytes = Mean(r => r.StateBytes), ascent_alignment = double.IsNaN(alignment) ? (double?)null : alignment,
            });
        }
        return (table, summary);
    }

    private static double Sd(IEnumerable<double> values)
    {
        var v = values.ToArray();
        return v.Any(x => !double.IsFinite(x)) ? 0 : BenchmarkContext.SampleSd(v);
    }

    /// <summary>A pretrained model's name (e.g. minilm) or a Hugging Face folder.</summary>
    private static string PretrainedFolder(string nameOrFolder) => Pretrained.PretrainedModels.Resolve(nameOrFolder, new() { Log = Console.WriteLine });
}
