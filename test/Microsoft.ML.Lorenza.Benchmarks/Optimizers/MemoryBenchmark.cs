using System.Globalization;
using System.Text.Json;
using Microsoft.ML.Lorenza.Benchmarks.Modeling;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.ML.Lorenza.Training;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Benchmarks.Optimizers;

/// <summary>
/// Peak process memory of each optimizer fine-tuning roberta-base (batch 8, seq 128, 3 steps). Each optimizer
/// runs in a fresh child process, so every peak starts from the same empty heap. With --device=cuda[:N] the
/// model trains on that GPU and the table adds this process's GPU memory as NVML reports it (the peak of the
/// readings after each step; TorchSharp has no CUDA memory statistics).
/// </summary>
public sealed class MemoryBenchmark : IBenchmark
{
    private const string ChildFlag = "--child=";

    public string Name => "memory";
    public string Description => "peak RSS of each optimizer on roberta-base (fresh process each), optimizer state, vs AdamW";

    /// <summary>What each child runs: every optimizer with its defaults, then LORENZA as the paper has it and the embedding treatments.</summary>
    private static readonly (string Label, string Optimizer, double ProbeBatchFraction, WordEmbeddingTreatment? WordEmbeddings)[] Variants =
    [
        .. OptimizerFactory.Names.Select(n => (n, n, OptimizerOptions.DefaultProbeBatchFraction, (WordEmbeddingTreatment?)null)),
        ("lorenza-paper", "lorenza", 1.0, WordEmbeddingTreatment.Full),
        ("lorenza-frozen-embeddings", "lorenza", OptimizerOptions.DefaultProbeBatchFraction, WordEmbeddingTreatment.Frozen),
        ("galore-lowrank-embeddings", "galore", OptimizerOptions.DefaultProbeBatchFraction, WordEmbeddingTreatment.LowRank),
    ];

    private sealed record ChildResult(string Optimizer, long ModelRssBytes, long PeakRssBytes, long StateBytes, double SecondsPerStep, long PeakGpuBytes);

    public void Run(BenchmarkContext context)
    {
        if (context.Args.FirstOrDefault(a => a.StartsWith(ChildFlag, StringComparison.Ordinal)) is { } child)
        {
            var result = Measure(child[ChildFlag.Length..], context.Quick ? 1 : 3, DeviceName(context));
            Console.WriteLine("RESULT " + JsonSerializer.Serialize(result));
            return;
        }

        var dll = typeof(MemoryBenchmark).Assembly.Location;
        var results = new List<ChildResult>();
        var only = context.Args.FirstOrDefault(a => a.StartsWith("--only=", StringComparison.Ordinal))?["--only=".Length..].Split(',');
        foreach (var name in Variants.Select(v => v.Label).Where(l => only is null || only.Contains(l) || l == "adamw"))
        {
            var stdout = BenchmarkContext.RunProcess("dotnet", $"\"{dll}\" memory {ChildFlag}{name} --device={DeviceName(context)}{(context.Quick ? " --quick" : "")}");
            var line = stdout.Split('\n').Single(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
            var result = JsonSerializer.Deserialize<ChildResult>(line["RESULT ".Length..])!;
            results.Add(result);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name}: peak {result.PeakRssBytes / 1048576.0:F0} MB, state {result.StateBytes / 1048576.0:F1} MB"));
        }

        var adamw = results.Single(r => r.Optimizer == "adamw");
        var gpu = results.Any(r => r.PeakGpuBytes > 0);
        string[] header = [$"optimizer (roberta-base, batch 8, seq 128, {DeviceName(context)})", "peak RSS MB", "vs adamw", "above model MB", "state MB", "s/step", .. gpu ? new[] { "GPU MB", "GPU vs adamw" } : []];
        var rows = new List<string[]> { header };
        foreach (var r in results)
            rows.Add([r.Optimizer, $"{r.PeakRssBytes / 1048576.0:F0}", $"{(double)r.PeakRssBytes / adamw.PeakRssBytes:F2}",
                $"{(r.PeakRssBytes - r.ModelRssBytes) / 1048576.0:F0}", $"{r.StateBytes / 1048576.0:F1}", $"{r.SecondsPerStep:F2}",
                .. gpu ? new[] { $"{r.PeakGpuBytes / 1048576.0:F0}", $"{(double)r.PeakGpuBytes / adamw.PeakGpuBytes:F2}" } : []]);
        BenchmarkContext.PrintTable(rows);
        context.Save(results);
    }

    private static string DeviceName(BenchmarkContext context) =>
        context.Args.FirstOrDefault(a => a.StartsWith("--device=", StringComparison.Ordinal))?["--device=".Length..] ?? "cpu";

    private static ChildResult Measure(string label, int steps, string deviceName)
    {
        var variant = Variants.Single(v => v.Label == label);
        const int batch = 8, seq = 128;
        var device = ComputeDevice.Parse(deviceName).Resolve();
        var config = RobertaConfig.Base();
        using var model = RobertaForSequenceClassification.Create(config, 0);
        model.to(device);
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(1);
        var input = RandomBatch.Create(config, batch, seq, g);
        var (ids, mask, labels) = (input.Ids.to(device), input.Mask.to(device), input.Labels.to(device));
        var modelRss = ProcessMemory.CurrentRssBytes();
        var options = new OptimizerOptions
        {
            LearningRate = 1e-5, Rank = 8, RefreshInterval = 200, Rho = 0.05, ProbeBatchFraction = variant.ProbeBatchFraction, WordEmbeddings = variant.WordEmbeddings,
        };
        using var optimizer = OptimizerFactory.Create(variant.Optimizer, new ManagedParameterRule().Apply(model), options, new ConstantSchedule(1e-5));
        var closure = ClassifierLoss.Closure(model, ids, mask, labels);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        long peakGpu = 0;
        for (var i = 0; i < steps; i++)
        {
            optimizer.Step(closure);
            if (device.type == DeviceType.CUDA && GpuMemory.Query(Math.Max(device.index, 0)) is { } gpu) peakGpu = Math.Max(peakGpu, gpu.UsedByThisProcess);
        }
        return new ChildResult(label, modelRss, ProcessMemory.PeakRssBytes(), optimizer.StateBytes, watch.Elapsed.TotalSeconds / steps, peakGpu);
    }
}
