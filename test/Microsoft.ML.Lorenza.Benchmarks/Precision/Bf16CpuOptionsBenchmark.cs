using Microsoft.ML.Lorenza.Benchmarks.Modeling;
using Microsoft.ML.Lorenza.Configuration;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Runtime;
using Microsoft.ML.Lorenza.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Benchmarks.Precision;

/// <summary>
/// What else might make a bf16 training step faster on the CPU (issue #26, item 5), in one process with the variants
/// alternating each round: libtorch's fused scaled_dot_product_attention instead of the explicit form, one intra-op
/// thread instead of all cores, against today's bf16 step and float32. A MiniLM-sized encoder (6 layers, hidden 384),
/// batch 16, length 128, AdamW, no dropout; the ratios are within each round.
/// </summary>
public sealed class Bf16CpuOptionsBenchmark : IBenchmark
{
    private const int Batch = 16, Seq = 128;

    public string Name => "bf16-cpu-options";
    public string Description => "bf16 CPU training step: fused attention and thread count against today's step and float32 (MiniLM shapes)";

    private sealed record Variant(string Label, ScalarType? Compute, bool FusedAttention = false, int? Threads = null);

    public void Run(BenchmarkContext context)
    {
        Variant[] variants =
        [
            new("bf16 (today)", ScalarType.BFloat16),
            new("bf16, fused attention", ScalarType.BFloat16, FusedAttention: true),
            new("bf16, 1 thread", ScalarType.BFloat16, Threads: 1),
            new("float32", null),
        ];
        var rounds = context.Int("--rounds", context.Quick ? 1 : 3);
        var repeats = context.Quick ? 2 : 5;
        var config = RobertaConfig.Tiny(30522, hidden: 384, layers: 6, heads: 12, maxLength: 512);
        config.IntermediateSize = 1536;
        (config.HiddenDropoutProb, config.AttentionProbsDropoutProb, config.ClassifierDropout) = (0, 0, 0);
        var seconds = variants.ToDictionary(v => v.Label, _ => new List<double>());
        for (var round = 0; round < rounds; round++)
        {
            foreach (var v in round % 2 == 0 ? variants : variants.Reverse())
                seconds[v.Label].Add(StepSeconds(config, v, repeats));
            Console.WriteLine($"  round {round + 1}: " + string.Join("; ", variants.Select(v => $"{v.Label} {seconds[v.Label][^1] * 1e3:F0} ms")));
        }
        var baseline = seconds[variants[0].Label];
        var rows = new List<string[]> { new[] { $"AdamW step, MiniLM shapes, batch {Batch}, length {Seq}", "ms (median)", "vs bf16 today (median of per-round ratios)" } };
        foreach (var v in variants)
            rows.Add([v.Label, $"{BenchmarkContext.Median(seconds[v.Label]) * 1e3:F0}",
                $"{BenchmarkContext.Median(seconds[v.Label].Zip(baseline, (a, b) => a / b)):F2}"]);
        BenchmarkContext.PrintTable(rows);
        Console.WriteLine($"CPU bf16 instructions: {CpuFeatures.Bf16Instructions ?? "none"}; intra-op threads by default: {TorchRuntime.NumThreads}");
        context.Save(new { batch = Batch, seq = Seq, rounds, seconds });
    }

    private static double StepSeconds(RobertaConfig config, Variant v, int repeats)
    {
        var threads = TorchRuntime.NumThreads;
        try
        {
            TransformerSelfAttention.FusedOnCpu = v.FusedAttention;
            if (v.Threads is { } n) TorchRuntime.NumThreads = n;
            using var model = RobertaForSequenceClassification.Create(config, 0);
            model.ComputeType = v.Compute;
            using var scope = torch.NewDisposeScope();
            using var g = new Generator(1);
            var input = RandomBatch.Create(config, Batch, Seq, g);
            using var optimizer = OptimizerFactory.Create("adamw", new ManagedParameterRule().Apply(model), new OptimizerOptions { LearningRate = 1e-4 }, new ConstantSchedule(1e-4));
            var closure = ClassifierLoss.Closure(model, input.Ids, input.Mask, input.Labels);
            return BenchmarkContext.MedianSeconds(() => optimizer.Step(closure), repeats, warmup: 2);
        }
        finally
        {
            TransformerSelfAttention.FusedOnCpu = false;
            TorchRuntime.NumThreads = threads;
        }
    }
}
