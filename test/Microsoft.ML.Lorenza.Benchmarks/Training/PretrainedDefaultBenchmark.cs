using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Lorenza.Benchmarks.Training.Comparison;
using Microsoft.ML.Lorenza.Configuration;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Training;

namespace Microsoft.ML.Lorenza.Benchmarks.Training;

/// <summary>
/// What the default start is worth (issue #32): all-defaults training (MiniLM fine-tuned, LORENZA, every default as the CLI
/// and ML.NET have it) against the same defaults from scratch (<c>Preset = Tiny</c>), on SST-2 and AG News rows from
/// ../shared/data, several seeds: validation accuracy and wall time per run. Options: --train N (1000), --eval N (500),
/// --seeds N (3), --data a,b (sst2,ag-news).
/// </summary>
public sealed class PretrainedDefaultBenchmark : IBenchmark
{
    public string Name => "pretrained-default";
    public string Description => "all defaults (MiniLM fine-tuned) vs from scratch (--preset tiny) on SST-2 and AG News: accuracy and wall time, 3 seeds";

    private sealed record DefaultRun(string Data, string Start, int Seed, double Accuracy, double Seconds);

    public void Run(BenchmarkContext context)
    {
        var shared = BenchmarkContext.SharedRoot ?? throw new InvalidOperationException("../shared/data is needed.");
        int trainRows = context.Int("--train", context.Quick ? 64 : 1000), evalRows = context.Int("--eval", context.Quick ? 64 : 500), seeds = context.Int("--seeds", context.Quick ? 1 : 3);
        var dataNames = context.Value("--data", "sst2,ag-news").Split(',');
        Console.WriteLine($"{trainRows} training rows, {evalRows} validation rows, {seeds} seed(s); every other option at its default ({new TrainingOptions().Loop.Epochs} epochs, batch {new TrainingOptions().Loop.BatchSize}, LORENZA)");
        var runs = new List<DefaultRun>();
        foreach (var name in dataNames)
        {
            var data = ComparisonData.Load(shared, name, trainRows, evalRows);
            for (var seed = 0; seed < seeds; seed++)
                foreach (var (start, preset) in new[] { ("minilm (default)", (ModelPreset?)null), ("tiny from scratch", ModelPreset.Tiny) })
                {
                    var options = new TrainingOptions { Loop = { Seed = (ulong)seed } };
                    if (preset is { } p) (options.Model.PretrainedModelPath, options.Model.Preset) = (null, p);
                    var clock = Stopwatch.StartNew();
                    var (classifier, report) = TextClassifierTrainer.Train(data.Train, data.Evaluation, options);
                    classifier.Dispose();
                    runs.Add(new DefaultRun(name, start, seed, report.Validation!.Accuracy, clock.Elapsed.TotalSeconds));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name} {start} seed {seed}: accuracy {runs[^1].Accuracy:P1}, {runs[^1].Seconds:F0} s"));
                    context.Save(new { train_rows = trainRows, eval_rows = evalRows, seeds, complete = false, runs }, quiet: true);
                }
        }
        var rows = new List<string[]> { new[] { "data", "start", "validation accuracy (mean ± sd)", "wall s (mean)" } };
        foreach (var g in runs.GroupBy(r => (r.Data, r.Start)))
        {
            var values = g.Select(r => r.Accuracy).ToArray();
            var mean = values.Average();
            var sd = BenchmarkContext.SampleSd(values);
            rows.Add([g.Key.Data, g.Key.Start, string.Create(CultureInfo.InvariantCulture, $"{mean * 100:F1} ± {sd * 100:F1}"), g.Average(r => r.Seconds).ToString("F0", CultureInfo.InvariantCulture)]);
        }
        BenchmarkContext.PrintTable(rows);
        context.Save(new { train_rows = trainRows, eval_rows = evalRows, seeds, complete = true, runs });
    }
}
