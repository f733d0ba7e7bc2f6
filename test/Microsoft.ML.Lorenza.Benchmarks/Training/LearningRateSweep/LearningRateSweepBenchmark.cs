using System.Globalization;
using System.Text.Json;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Benchmarks.Training.LearningRateSweep;

/// <summary>
/// Which learning rate suits each optimizer at the product's defaults (issue #33): MiniLM fine-tuned on SST-2, AG News and
/// the two sample apps' data, and a tiny RoBERTa from scratch on SST-2, with AdamW, SAM, GaLore, LoRA and LORENZA at rates on
/// a half-decade log grid; every other option at its default (epochs, batch, rank, T, α, ρ, embeddings). Reports the final
/// held-out accuracy per rate (mean ± sd over seeds), each optimizer's best rate and how much its grid neighbours lose.
/// Options: --data a,b (sst2, ag-news, sentiment-sample, issues-sample, scratch), --optimizers a,b, --rates x,y (pretrained;
/// 1e-5 … 3e-3), --scratch-rates x,y (1e-4 … 1e-2), --seeds N (2), --first-seed N (0; with --seeds, a later process can take the remaining seeds), --train N (800 rows of SST-2 / AG News; the samples use
/// 80 % of their file), --eval N (500), --max-length N (64), --epochs N, --batch N (the defaults), --out NAME (lr-sweep);
/// --summarize a.json,b.json merges the results files of runs made apart (one process per core) into one table and plot.
/// Results are rewritten after every run, so a run stopped early keeps what it finished.
/// </summary>
public sealed class LearningRateSweepBenchmark : IBenchmark
{
    public string Name => "lr-sweep";
    public string Description => "final accuracy vs learning rate of AdamW, SAM, GaLore, LoRA, LORENZA at the defaults (MiniLM on SST-2, AG News, the samples; tiny from scratch)";

    private static readonly string[] DefaultOptimizers = ["adamw", "sam", "galore", "lora", "lorenza"];

    public void Run(BenchmarkContext context)
    {
        var fileName = context.Value("--out", "lr-sweep");
        if (context.Value("--summarize", "") is { Length: > 0 } files)
        {
            Report(context, files.Split(',').SelectMany(ReadRuns).ToList(), $"merged from {files}", fileName);
            return;
        }
        var shared = BenchmarkContext.SharedRoot ?? throw new InvalidOperationException("../shared/data is needed (SST-2, AG News).");
        var quick = context.Quick;
        var dataNames = context.Value("--data", quick ? "sentiment-sample" : string.Join(',', SweepData.Names)).Split(',');
        var optimizers = context.Value("--optimizers", quick ? "adamw,lorenza" : string.Join(',', DefaultOptimizers)).Split(',');
        var rates = Rates(context.Value("--rates", quick ? "1e-4,1e-3" : "1e-5,3e-5,1e-4,3e-4,1e-3,3e-3"));
        var scratchRates = Rates(context.Value("--scratch-rates", "1e-4,3e-4,1e-3,3e-3,1e-2"));
        int seeds = context.Int("--seeds", quick ? 1 : 2), firstSeed = context.Int("--first-seed", 0), trainRows = context.Int("--train", quick ? 64 : 800), evalRows = context.Int("--eval", quick ? 64 : 500);
        var maxLength = context.Int("--max-length", 64);
        int? epochs = context.Value("--epochs", "") is { Length: > 0 } e ? int.Parse(e, CultureInfo.InvariantCulture) : null;
        int? batch = context.Value("--batch", "") is { Length: > 0 } b ? int.Parse(b, CultureInfo.InvariantCulture) : null;
        var defaults = new TrainingOptions();
        var settings = $"defaults except the rate: {epochs ?? defaults.Loop.Epochs} epochs, batch {batch ?? defaults.Loop.BatchSize}, length ≤ {maxLength}, "
            + $"rank {defaults.Optimizer.Rank}, T {defaults.Optimizer.RefreshInterval}, α {defaults.Optimizer.Scale}, ρ {defaults.Optimizer.Rho}, compute {defaults.Compute.Precision}; "
            + $"pretrained {defaults.Model.PretrainedModelPath}; SST-2 / AG News: {trainRows} training rows, {evalRows} held out; samples: 80 / 20 of their file; {seeds} seed(s)";
        Console.WriteLine(settings);
        var datasets = dataNames.Select(n => SweepData.Load(shared, n, n == "scratch" ? Math.Max(trainRows, 3 * trainRows) : trainRows, evalRows)).ToList();

        var runs = new List<SweepRun>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // Seed-major: a sweep stopped early has every data set's first seed at every rate.
        for (var seed = firstSeed; seed < firstSeed + seeds; seed++)
            foreach (var data in datasets)
                foreach (var optimizer in optimizers)
                    foreach (var rate in data.FromScratch ? scratchRates : rates)
                    {
                        var run = SweepRun.Train(data, optimizer, rate, seed, maxLength, epochs, batch);
                        runs.Add(run);
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"  [{clock.Elapsed:hh\\:mm\\:ss}] {data.Name} {optimizer} lr {rate:0.#e0} seed {seed}: accuracy {run.Accuracy:P1}, train loss {run.TrainLoss:F3}, {run.Seconds:F0} s"));
                        context.Save(new { settings, complete = false, runs }, fileName, quiet: true);
                    }
        Report(context, runs, settings, fileName);
        Console.WriteLine($"total {clock.Elapsed.TotalMinutes:F1} min");
    }

    private static List<double> Rates(string text) => text.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).Order().ToList();

    private static void Report(BenchmarkContext context, List<SweepRun> runs, string settings, string fileName)
    {
        var analysis = SweepAnalysis.Of(runs);
        BenchmarkContext.PrintTable(analysis.AccuracyTable());
        Console.WriteLine();
        BenchmarkContext.PrintTable(analysis.ChoiceTable());
        var json = context.Save(new { settings, complete = true, summary = analysis.Summary(), best = analysis.Best(), best_per_family = analysis.BestPerFamily(), runs }, fileName);
        var svg = Path.ChangeExtension(json, ".svg");
        File.WriteAllText(svg, LearningRateChart.Render(analysis));
        Console.WriteLine($"plot written to {svg}");
    }

    private static IEnumerable<SweepRun> ReadRuns(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.GetProperty("results").GetProperty("runs").Deserialize<List<SweepRun>>()
            ?? throw new InvalidDataException($"{path}: no runs");
    }
}
