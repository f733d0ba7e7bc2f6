using System.Globalization;
using System.Text.Json;
using Microsoft.ML.Lorenza.Benchmarks.Training.Comparison;
using Microsoft.ML.Lorenza.Configuration;
using Microsoft.ML.Lorenza.Optimizers;

namespace Microsoft.ML.Lorenza.Benchmarks.Training.NoisyLabels;

/// <summary>
/// Where sharpness pays (issue #30): MiniLM fine-tuned on SST-2 rows whose labels are flipped at 0 % and 30 % (seeded,
/// the flipped rows recorded), long enough to memorize the noise, with AdamW, SAM, GaLore, LoRA and LORENZA at several
/// radii; per epoch the clean dev accuracy, the share of flipped rows predicted with their wrong label, the fit of the
/// clean rows and the loss; best-epoch and final accuracy, step time relative to AdamW and the ascent alignment.
/// Options: --model (minilm), --train N (1000), --dev N (872: all), --epochs N (10), --batch N (16), --max-length N (64), --seeds N (3),
/// --noise a,b (0,0.3), --arms a,b (labels; all by default), --lr defaults|X (defaults: every arm at the product's own
/// settings — the learning rate of its family from the #33 sweep, rank 8, scale 1, T = 200; a number X: the comparison's
/// scheme, X for every arm and 5× for LoRA, α = 2, T = 50),
/// --device cpu|cuda, --precision auto|none|bf16, --out NAME; --summarize a.json,b.json merges results files of runs
/// made apart (one process per arm on a GPU) into one table and plot. Results are rewritten after every run, so a run
/// stopped early keeps what it finished.
/// </summary>
public sealed class NoisyLabelsBenchmark : IBenchmark
{
    public string Name => "noisy-labels";
    public string Description => "SST-2 with 0 %/30 % flipped labels: best and final dev accuracy, memorized noise, step time of AdamW, SAM, GaLore, LoRA, LORENZA (ρ 0.05/0.5/5, momentum)";

    /// <summary>The arms of the issue: the comparison's methods plus LORENZA at radii 10× and 100× the paper's.</summary>
    public static readonly IReadOnlyList<ComparisonMethod> Arms =
    [
        .. ComparisonMethod.All.Where(m => m.Label is "adamw" or "sam" or "galore" or "lora" or "lorenza" or "lorenza momentum"),
        ComparisonMethod.Ablations.Single(m => m.Label == "lorenza paper"),
        new("lorenza rho=0.5", "lorenza", OptimizerFamily.LowRankProjected, 0.5, AscentDirection.ZerothOrder),
        new("lorenza rho=5", "lorenza", OptimizerFamily.LowRankProjected, 5, AscentDirection.ZerothOrder),
    ];

    public void Run(BenchmarkContext context)
    {
        if (context.Value("--summarize", "") is { Length: > 0 } files)
        {
            var merged = files.Split(',').SelectMany(ReadRuns).ToList();
            Report(context, merged, settings: $"merged from {files}", complete: true, context.Value("--out", "noisy-labels"));
            return;
        }
        var shared = BenchmarkContext.SharedRoot ?? throw new InvalidOperationException("../shared/data is needed (SST-2).");
        var quick = context.Quick;
        var trainRows = context.Int("--train", quick ? 96 : 1000);
        var seeds = context.Int("--seeds", quick ? 1 : 3);
        var devRows = context.Int("--dev", quick ? 200 : 872);
        var noiseRates = context.Value("--noise", "0,0.3").Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToList();
        var armLabels = context.Value("--arms", quick ? "adamw,lorenza" : string.Join(',', Arms.Select(a => a.Label))).Split(',');
        if (armLabels.Except(Arms.Select(a => a.Label)).ToList() is { Count: > 0 } unknown)
            throw new ArgumentException($"--arms: unknown arm(s) {string.Join(", ", unknown)}; known: {string.Join(", ", Arms.Select(a => a.Label))}.");
        var arms = Arms.Where(a => armLabels.Contains(a.Label)).ToList();
        var model = context.Value("--model", "minilm");
        var learningRate = context.Value("--lr", "defaults");
        var settings = new ComparisonSettings(true, Pretrained.PretrainedModels.Resolve(model, new() { Log = Console.WriteLine }),
            context.Int("--epochs", quick ? 2 : 10), context.Int("--batch", 16), context.Int("--max-length", 64),
            learningRate == "defaults" ? null : double.Parse(learningRate, CultureInfo.InvariantCulture),
            Enum.Parse<ComputePrecision>(context.Value("--precision", "auto"), ignoreCase: true));
        var device = context.Value("--device", "cpu");
        var description = $"{settings.Describe(new TorchSharp.torch.Device(device))}; device {device}; SST-2: {trainRows} training rows, {devRows} dev rows (clean); "
            + $"noise {string.Join(", ", noiseRates.Select(r => r.ToString("P0", CultureInfo.InvariantCulture)))}; {seeds} seed(s); model {model}";
        Console.WriteLine(description);

        var data = ComparisonData.Load(shared, "sst2", trainRows, devRows);
        var runs = new List<NoisyRun>();
        var fileName = context.Value("--out", "noisy-labels");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // Seed-major with the noisiest rate first: a run stopped early has every arm's first seed at the rate that matters.
        foreach (var seed in Enumerable.Range(0, seeds))
            foreach (var rate in noiseRates.OrderDescending())
            {
                var noise = LabelNoise.Apply(data.Train, rate, seed);
                foreach (var arm in arms)
                {
                    var options = settings.For(arm, (ulong)seed);
                    options.Compute.Device = device;
                    var run = NoisyRun.Train(noise, rate, data.Evaluation, options, arm.Label, seed);
                    runs.Add(run);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  [{clock.Elapsed:hh\\:mm\\:ss}] noise {rate:P0} {arm.Label} seed {seed}: best {run.BestAccuracy:P1} (epoch {run.BestEpoch}), final {run.FinalAccuracy:P1}, memorized {run.FinalMemorized:P0}, {run.SecondsPerStep * 1e3:F0} ms/step"));
                    Save(context, runs, description, complete: false, fileName, FlippedRows(noiseRates, seeds, data));
                }
            }
        Report(context, runs, description, complete: true, fileName, FlippedRows(noiseRates, seeds, data));
        Console.WriteLine($"total {clock.Elapsed.TotalMinutes:F1} min");
    }

    private static Dictionary<string, IReadOnlyList<int>> FlippedRows(List<double> rates, int seeds, ComparisonData data) =>
        rates.Where(r => r > 0).SelectMany(r => Enumerable.Range(0, seeds).Select(s => (r, s)))
            .ToDictionary(x => string.Create(CultureInfo.InvariantCulture, $"noise {x.r} seed {x.s}"), x => LabelNoise.Apply(data.Train, x.r, x.s).FlippedRows);

    private static void Save(BenchmarkContext context, List<NoisyRun> runs, string settings, bool complete, string fileName, object? flipped = null) =>
        context.Save(new { settings, complete, summary = Summary(runs), runs, flipped_rows = flipped }, fileName, quiet: !complete);

    private static void Report(BenchmarkContext context, List<NoisyRun> runs, string settings, bool complete, string fileName, object? flipped = null)
    {
        BenchmarkContext.PrintTable(Table(runs));
        var json = context.Save(new { settings, complete, summary = Summary(runs), runs, flipped_rows = flipped }, fileName);
        var svg = Path.ChangeExtension(json, ".svg");
        File.WriteAllText(svg, NoisyLabelsChart.Render(runs));
        Console.WriteLine($"plot written to {svg}");
    }

    private static IEnumerable<NoisyRun> ReadRuns(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var options = new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
        return document.RootElement.GetProperty("results").GetProperty("runs").Deserialize<List<NoisyRun>>(options)
            ?? throw new InvalidDataException($"{path}: no runs");
    }

    private static IEnumerable<IGrouping<(double Noise, string Arm), NoisyRun>> Groups(List<NoisyRun> runs) =>
        runs.GroupBy(r => (r.Noise, r.Arm)).OrderByDescending(g => g.Key.Noise).ThenBy(g => Arms.ToList().FindIndex(a => a.Label == g.Key.Arm));

    private static double AdamwStep(List<NoisyRun> runs, double noise) =>
        runs.Where(r => r.Arm == "adamw" && r.Noise == noise).Select(r => r.SecondsPerStep).DefaultIfEmpty(double.NaN).Average();

    private static List<object> Summary(List<NoisyRun> runs) => Groups(runs).Select(g => (object)new
    {
        noise = g.Key.Noise, arm = g.Key.Arm, seeds = g.Count(),
        best_accuracy = g.Average(r => r.BestAccuracy), best_accuracy_sd = Sd(g.Select(r => r.BestAccuracy)), best_epoch = g.Average(r => r.BestEpoch),
        final_accuracy = g.Average(r => r.FinalAccuracy), final_accuracy_sd = Sd(g.Select(r => r.FinalAccuracy)),
        final_memorized = g.Average(r => r.FinalMemorized), final_clean_fit = g.Average(r => r.Epochs[^1].CleanTrainAccuracy),
        step_ratio_vs_adamw = g.Average(r => r.SecondsPerStep) / AdamwStep(runs, g.Key.Noise), ascent_alignment = g.Average(r => r.Alignment),
    }).ToList();

    private static List<string[]> Table(List<NoisyRun> runs)
    {
        var table = new List<string[]> { new[] { "noise", "arm", "seeds", "best dev acc", "best epoch", "final dev acc", "final − best", "noise memorized", "clean fit", "step/AdamW", "ascent align" } };
        foreach (var g in Groups(runs))
        {
            string Pct(Func<NoisyRun, double> f) => MeanSd(g.Select(f).ToList(), 100, "F1");
            var ratio = g.Average(r => r.SecondsPerStep) / AdamwStep(runs, g.Key.Noise);
            var alignment = g.Average(r => r.Alignment);
            table.Add([g.Key.Noise.ToString("P0", CultureInfo.InvariantCulture), g.Key.Arm, g.Count().ToString(CultureInfo.InvariantCulture), Pct(r => r.BestAccuracy),
                g.Average(r => r.BestEpoch).ToString("F1", CultureInfo.InvariantCulture), Pct(r => r.FinalAccuracy), Pct(r => r.FinalAccuracy - r.BestAccuracy),
                g.Key.Noise > 0 ? Pct(r => r.FinalMemorized) : "-", Pct(r => r.Epochs[^1].CleanTrainAccuracy),
                double.IsFinite(ratio) ? ratio.ToString("F2", CultureInfo.InvariantCulture) : "-", double.IsFinite(alignment) ? alignment.ToString("F4", CultureInfo.InvariantCulture) : "-"]);
        }
        return table;
    }

    private static string MeanSd(List<double> values, double scale, string format)
    {
        var mean = values.Average() * scale;
        var text = mean.ToString(format, CultureInfo.InvariantCulture);
        return values.Count > 1 ? text + "±" + (Sd(values) * scale).ToString(format, CultureInfo.InvariantCulture) : text;
    }

    private static double Sd(IEnumerable<double> values) => BenchmarkContext.SampleSd(values.ToArray());
}
