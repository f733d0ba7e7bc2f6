using System.Globalization;
using System.Text;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.ML.Lorenza.Training;

namespace Microsoft.ML.Lorenza.Benchmarks.Training;

/// <summary>
/// LORENZA against its ablations and baselines with the same budget on real data (SST-2 and AG News
/// subsets from ../shared/data), several seeds: validation accuracy, macro-F1, train − validation gap,
/// sharpness of the final weights, step time relative to AdamW and peak resident memory. A tiny RoBERTa
/// is trained from scratch (no pretrained weights can be downloaded here), so absolute accuracies are
/// those of a small model; the comparison between optimizers is what this measures.
/// Options: --seeds N (default 2), --train N examples (default 3000), --epochs N (default 3),
/// --sharpness-percent P (radius of the sharpness probes as a percentage of ‖θ‖, default 1),
/// --only a,b (configurations by label, e.g. "lora,lorenza"; AdamW always runs, as the step-time reference),
/// --from-pretrained (fine-tune, on each data set, a model first trained with AdamW on the other data set,
/// instead of starting from random weights: the setting LoRA is made for; results go to compare-pretrained.json).
/// </summary>
public sealed class CompareOptimizersBenchmark : IBenchmark
{
    public string Name => "compare";
    public string Description => "accuracy, F1, gap, sharpness, step time, peak memory of LORENZA vs AdamW/SAM/GaLore/LoRA and ablations on SST-2 and AG News";

    private static readonly (string Label, string Optimizer, double Rho, AscentDirection Ascent)[] Configurations =
    [
        ("lorenza", "lorenza", 0.05, AscentDirection.ZerothOrder),
        ("lorenza rho=0", "lorenza", 0, AscentDirection.ZerothOrder),
        ("lorenza momentum", "lorenza", 0.05, AscentDirection.Momentum),
        ("galore", "galore", 0, AscentDirection.ZerothOrder),
        ("sam", "sam", 0.05, AscentDirection.ZerothOrder),
        ("adamw", "adamw", 0, AscentDirection.ZerothOrder),
        ("lora", "lora", 0, AscentDirection.ZerothOrder),
    ];

    private sealed record Row(string Dataset, string Optimizer, int Seed, double Accuracy, double MacroF1, double Gap, double Sharpness, double SecondsPerStep, long PeakRssBytes, long StateBytes, double Alignment);

    public void Run(BenchmarkContext context)
    {
        var shared = BenchmarkContext.SharedRoot ?? throw new InvalidOperationException("../shared/data is needed.");
        int Arg(string name, int fallback) => context.Args.SkipWhile(a => a != name).Skip(1).Select(int.Parse).DefaultIfEmpty(fallback).First();
        var seeds = Arg("--seeds", context.Quick ? 1 : 2);
        var trainSize = Arg("--train", context.Quick ? 600 : 3000);
        var epochs = Arg("--epochs", context.Quick ? 1 : 3);
        var radius = Arg("--sharpness-percent", 1) / 100.0;
        var only = context.Args.SkipWhile(a => a != "--only").Skip(1).Select(a => a.Split(',').ToHashSet()).FirstOrDefault();
        var configurations = Configurations.Where(c => only is null || c.Label == "adamw" || only.Contains(c.Label)).ToList();
        if (only is not null && only.Except(Configurations.Select(c => c.Label)).ToList() is { Count: > 0 } unknown)
            throw new ArgumentException($"--only: unknown configuration(s) {string.Join(", ", unknown)}; known: {string.Join(", ", Configurations.Select(c => c.Label))}.");

        var datasets = new[]
        {
            ("sst2", Subset(TextDataset.Load(Path.Combine(shared, "data", "sst2", "train.tsv"), new("sentence", "label")), trainSize),
                     TextDataset.Load(Path.Combine(shared, "data", "sst2", "dev.tsv"), new("sentence", "label"))),
            ("ag-news", Subset(TextDataset.Load(Path.Combine(shared, "data", "ag-news", "train_subset.tsv"), new("text", "label")), trainSize),
                        Subset(TextDataset.Load(Path.Combine(shared, "data", "ag-news", "test.tsv"), new("text", "label")), 1000)),
        };

        var fromPretrained = context.Args.Contains("--from-pretrained");
        var sources = fromPretrained ? Pretrain(datasets, epochs) : null;
        var rows = new List<Row>();
        foreach (var (name, train, dev) in datasets)
            foreach (var (label, optimizer, rho, ascent) in configurations)
                for (var seed = 0; seed < seeds; seed++)
                {
                    ProcessMemory.ResetPeak();
                    var options = Budget(optimizer, epochs, (ulong)seed);
                    options.PretrainedModelPath = sources?[name];
                    (options.OptimizerOptions.Rho, options.OptimizerOptions.AscentDirection) = (rho, ascent);
                    var (classifier, report) = TextClassifierTrainer.Train(train, dev, options);
                    using (classifier)
                    {
                        var validation = report.Validation!;
                        var last = report.Epochs[^1];
                        var sharpness = Sharpness(classifier, dev, (ulong)seed, radius);
                        var alignment = last.OptimizerDiagnostics.GetValueOrDefault("ascent_alignment", double.NaN);
                        rows.Add(new Row(name, label, seed, validation.Accuracy, validation.MacroF1, last.GeneralizationGap, sharpness,
                            report.SecondsPerStep, ProcessMemory.PeakRssBytes(), report.OptimizerStateBytes, alignment));
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name} {label} seed {seed}: accuracy {validation.Accuracy:P1}, sharpness {sharpness:F4}, {report.SecondsPerStep * 1e3:F0} ms/step"));
                    }
                }

        var table = new List<string[]> { new[] { "data", "optimizer", "val acc", "macro-F1", "gap", "sharpness", "step/adamw", "peak RSS MB", "state MB", "ascent align" } };
        var summary = new List<object>();
        foreach (var group in rows.GroupBy(r => (r.Dataset, r.Optimizer)))
        {
            var adamw = rows.Where(r => r.Dataset == group.Key.Dataset && r.Optimizer == "adamw").Average(r => r.SecondsPerStep);
            string MeanSd(Func<Row, double> f, string format)
            {
                var values = group.Select(f).ToArray();
                var mean = values.Average();
                var sd = values.Length > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1)) : 0;
                return values.Length > 1 ? $"{mean.ToString(format, CultureInfo.InvariantCulture)}±{sd.ToString(format, CultureInfo.InvariantCulture)}" : mean.ToString(format, CultureInfo.InvariantCulture);
            }
            var alignment = group.Select(r => r.Alignment).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average();
            table.Add([group.Key.Dataset, group.Key.Optimizer, MeanSd(r => r.Accuracy, "F3"), MeanSd(r => r.MacroF1, "F3"), MeanSd(r => r.Gap, "F3"),
                MeanSd(r => r.Sharpness, "F4"), $"{group.Average(r => r.SecondsPerStep) / adamw:F2}", $"{group.Max(r => r.PeakRssBytes) / 1048576.0:F0}",
                $"{group.Average(r => r.StateBytes) / 1048576.0:F2}", double.IsNaN(alignment) ? "-" : $"{alignment:F4}"]);
            summary.Add(new
            {
                dataset = group.Key.Dataset, optimizer = group.Key.Optimizer, accuracy = group.Average(r => r.Accuracy), macro_f1 = group.Average(r => r.MacroF1),
                gap = group.Average(r => r.Gap), sharpness = group.Average(r => r.Sharpness), step_ratio_vs_adamw = group.Average(r => r.SecondsPerStep) / adamw,
                peak_rss_bytes = group.Max(r => r.PeakRssBytes), state_bytes = group.Average(r => r.StateBytes), ascent_alignment = alignment,
            });
        }
        var start = fromPretrained ? "tiny RoBERTa pretrained with AdamW on the other data set (new head)" : "tiny RoBERTa from scratch";
        Console.WriteLine($"{seeds} seed(s), {trainSize} training examples, {epochs} epoch(s), {start}, lr 3e-3 linear, rank 8, T = 50, sharpness radius {radius:P0} of ‖θ‖");
        BenchmarkContext.PrintTable(table);
        var result = new { seeds, train_examples = trainSize, epochs, from_pretrained = fromPretrained, summary, runs = rows };
        var json = context.Save(result, fromPretrained ? "compare-pretrained" : null);
        if (sources is not null)
            foreach (var folder in sources.Values) Directory.Delete(folder, true);
        var svg = Path.ChangeExtension(json, ".svg");
        File.WriteAllText(svg, BarChart(rows));
        Console.WriteLine($"plot written to {svg}");
    }

    /// <summary>The budget and settings every run shares (the pretraining runs too, so their models fit the fine-tuning runs).</summary>
    private static TrainingOptions Budget(string optimizer, int epochs, ulong seed) => new()
    {
        Optimizer = optimizer, Epochs = epochs, BatchSize = 32, MaxSequenceLength = 64, Seed = seed, Device = "cpu", LearningRateSchedule = "linear",
        OptimizerOptions = new OptimizerOptions { LearningRate = 3e-3, Rank = 8, RefreshInterval = 50 },
    };

    /// <summary>For each data set, a model trained with AdamW (seed 100) on the other one, saved to a temporary folder.</summary>
    private static Dictionary<string, string> Pretrain((string Name, TextDataset Train, TextDataset Dev)[] datasets, int epochs)
    {
        var folders = new Dictionary<string, string>();
        foreach (var (name, _, _) in datasets)
        {
            var source = datasets.First(d => d.Name != name);
            var (classifier, report) = TextClassifierTrainer.Train(source.Train, source.Dev, Budget("adamw", epochs, seed: 100));
            using (classifier)
            {
                var folder = Directory.CreateTempSubdirectory($"lorenza-compare-{source.Name}-").FullName;
                classifier.Save(folder);
                folders[name] = folder;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  pretrained on {source.Name} for {name}: accuracy {report.Validation!.Accuracy:P1} on {source.Name}"));
            }
        }
        return folders;
    }

    private static TextDataset Subset(TextDataset data, int count) =>
        TextDataset.FromExamples(data.Examples.Take(count), data.Source);

    /// <summary>
    /// Mean increase of the validation loss (on up to 256 examples) when all weights move along a random
    /// Gaussian direction scaled to <paramref name="radius"/> × the weights' norm, over 8 directions: a flatness measure.
    /// </summary>
    private static double Sharpness(TextClassifier classifier, TextDataset dev, ulong seed, double radius)
    {
        var examples = dev.Examples.Take(256).ToList();
        var labels = new LabelMap(classifier.Labels).IdsOf(TextDataset.FromExamples(examples));
        double Loss() => TextClassifierTrainer.Evaluate(classifier, examples, labels).LogLoss;
        var parameters = classifier.Model.named_parameters().Select(p => p.parameter).ToList();
        var baseline = Loss();
        using var noGrad = torch.no_grad();
        var originals = parameters.Select(p => p.detach().clone().DetachFromDisposeScope()).ToList();
        var weightNorm = Math.Sqrt(originals.Sum(o => Math.Pow(o.norm().item<float>(), 2)));
        double total = 0;
        const int directions = 8;
        using var generator = new Generator(seed + 1000);
        for (var k = 0; k < directions; k++)
        {
            using var scope = torch.NewDisposeScope();
            var noise = parameters.Select(p => torch.randn(p.shape, generator: generator)).ToList();
            var noiseNorm = Math.Sqrt(noise.Sum(n => Math.Pow(n.norm().item<float>(), 2)));
            for (var i = 0; i < parameters.Count; i++) parameters[i].add_(noise[i], radius * weightNorm / noiseNorm);
            total += Loss() - baseline;
            for (var i = 0; i < parameters.Count; i++) parameters[i].copy_(originals[i]);
        }
        foreach (var o in originals) o.Dispose();
        return total / directions;
    }

    private static string BarChart(List<Row> rows)
    {
        var groups = rows.GroupBy(r => (r.Dataset, r.Optimizer)).ToList();
        const int barWidth = 26, gap = 6, top = 40, height = 260;
        var width = 80 + groups.Count * (barWidth + gap) + 40;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{top + height + 150}\" font-family=\"sans-serif\" font-size=\"11\"><rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">validation accuracy (mean, min–max over seeds)</text>");
        double Y(double v) => top + height - v * height;
        for (var t = 0; t <= 10; t += 2)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"60\" x2=\"{width - 20}\" y1=\"{Y(t / 10.0):F1}\" y2=\"{Y(t / 10.0):F1}\" stroke=\"#eee\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"55\" y=\"{Y(t / 10.0) + 4:F1}\" text-anchor=\"end\">{t / 10.0:F1}</text>");
        }
        string[] colors = ["#1f77b4", "#aec7e8", "#9467bd", "#2ca02c", "#d62728", "#ff7f0e", "#8c564b"];
        var x = 70;
        foreach (var g in groups)
        {
            var mean = g.Average(r => r.Accuracy);
            var color = colors[Array.FindIndex(Configurations, c => c.Label == g.Key.Optimizer) % colors.Length];
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x}\" y=\"{Y(mean):F1}\" width=\"{barWidth}\" height=\"{height * mean:F1}\" fill=\"{color}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x + barWidth / 2}\" x2=\"{x + barWidth / 2}\" y1=\"{Y(g.Min(r => r.Accuracy)):F1}\" y2=\"{Y(g.Max(r => r.Accuracy)):F1}\" stroke=\"black\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate({x + barWidth / 2},{top + height + 8}) rotate(60)\">{g.Key.Dataset} {g.Key.Optimizer}</text>");
            x += barWidth + gap;
        }
        svg.Append("</svg>");
        return svg.ToString();
    }
}
