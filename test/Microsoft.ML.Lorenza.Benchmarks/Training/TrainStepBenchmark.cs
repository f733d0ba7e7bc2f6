using System.Text.Json;
using Microsoft.ML.Lorenza.Benchmarks.Modeling;
using Microsoft.ML.Lorenza.Benchmarks.Torch;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Runtime;
using Microsoft.ML.Lorenza.Training;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Benchmarks.Training;

/// <summary>
/// A whole AdamW training step (forward, cross-entropy, backward, update; no dropout) of a RoBERTa classifier,
/// batch 8, seq 128: ours in float32 against the same math with torch.optim.AdamW in Debian's PyTorch, and as a FLOP
/// rate against the float32 matmul GFLOP/s this process reaches in the same round; and ours with bf16 compute (what
/// Precision = Auto picks on a CPU with AVX512_BF16) against ours in float32. Rounds alternate ours (float32, bf16) and
/// PyTorch; the table shows the median over rounds.
/// </summary>
public sealed class TrainStepBenchmark : IBenchmark
{
    private const int Batch = 8, Seq = 128;

    public string Name => "train-step";
    public string Description => "AdamW step (fwd + bwd + update), tiny and roberta-base: vs PyTorch (<= 1.1), as a share of matmul GFLOP/s (>= 0.70), bf16 vs float32";

    public void Run(BenchmarkContext context)
    {
        var rounds = context.Quick ? 1 : 2;
        // A tiny step takes milliseconds and a base step seconds: more repeats for the tiny one, for a stable median.
        RobertaVsPyTorch.Shape[] shapes = [new("tiny", RobertaConfig.Tiny(1000, 2), context.Quick ? 5 : 40), new("roberta-base", RobertaConfig.Base(), context.Quick ? 2 : 5)];
        foreach (var shape in shapes) (shape.Config.HiddenDropoutProb, shape.Config.AttentionProbsDropoutProb, shape.Config.ClassifierDropout) = (0, 0, 0);
        var ours = shapes.ToDictionary(s => s.Name, _ => new List<double>());
        var oursBf16 = shapes.ToDictionary(s => s.Name, _ => new List<double>());
        var theirs = shapes.ToDictionary(s => s.Name, _ => new List<double>());
        var matmul = new List<double>();
        for (var round = 1; round <= rounds; round++)
        {
            matmul.Add(MatmulRate.BestGflops(2048, context.Quick ? 3 : 7));
            foreach (var shape in shapes)
            {
                ours[shape.Name].Add(OursSeconds(shape, null));
                oursBf16[shape.Name].Add(OursSeconds(shape, ScalarType.BFloat16));
            }
            var reply = RobertaVsPyTorch.RunReference("bench_train_step.py", shapes, Batch, Seq);
            foreach (var shape in shapes) theirs[shape.Name].Add(reply.GetProperty(shape.Name).GetDouble());
            Console.WriteLine($"  round {round}: matmul {matmul[^1]:F0} GFLOP/s; " + string.Join("; ", shapes.Select(s => $"{s.Name} ours {ours[s.Name][^1] * 1e3:F1} ms (bf16 {oursBf16[s.Name][^1] * 1e3:F1}), PyTorch {theirs[s.Name][^1] * 1e3:F1} ms")));
        }

        var gflops = BenchmarkContext.Median(matmul);
        var rows = new List<string[]> { new[] { $"AdamW step (batch {Batch}, seq {Seq})", "ours ms", "PyTorch ms", "ours/PyTorch", "GFLOP/step", "ours GFLOP/s", "share of matmul", "ours bf16 ms", "bf16 speed-up" } };
        var results = new List<object>();
        foreach (var shape in shapes)
        {
            double o = BenchmarkContext.Median(ours[shape.Name]), p = BenchmarkContext.Median(theirs[shape.Name]), b = BenchmarkContext.Median(oursBf16[shape.Name]);
            var speedUp = BenchmarkContext.Median(ours[shape.Name].Zip(oursBf16[shape.Name], (f, h) => f / h)); // the ratio within each round
            var flops = TrainingFlops.PerStep(shape.Config, Batch, Seq);
            var rate = flops / o / 1e9;
            rows.Add([shape.Name, $"{o * 1e3:F1}", $"{p * 1e3:F1}", $"{o / p:F2}", $"{flops / 1e9:F1}", $"{rate:F0}", $"{rate / gflops:F2}", $"{b * 1e3:F1}", $"{speedUp:F2}×"]);
            results.Add(new { model = shape.Name, ours_s = o, pytorch_s = p, ratio = o / p, flops_per_step = flops, ours_gflops = rate, share_of_matmul = rate / gflops,
                              ours_bf16_s = b, bf16_speedup = speedUp, rounds_ours_s = ours[shape.Name], rounds_ours_bf16_s = oursBf16[shape.Name], rounds_pytorch_s = theirs[shape.Name] });
        }
        BenchmarkContext.PrintTable(rows);
        Console.WriteLine($"matmul 2048³ float32 in this process: {gflops:F0} GFLOP/s (median of the rounds' best); targets: ours/PyTorch <= 1.1, roberta-base share of matmul >= 0.70, " +
                          $"roberta-base bf16 >= 2× float32 on a CPU with bf16 instructions (this one: {CpuFeatures.Bf16Instructions ?? "none"})");
        context.Save(new { matmul_gflops = gflops, rows = results });
    }

    private static double OursSeconds(RobertaVsPyTorch.Shape shape, ScalarType? computeType)
    {
        using var model = RobertaForSequenceClassification.Create(shape.Config, 0);
        model.ComputeType = computeType;
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(1);
        var input = RandomBatch.Create(shape.Config, Batch, Seq, g);
        var options = new OptimizerOptions { LearningRate = 1e-4, WeightDecay = 0.01 };
        using var optimizer = OptimizerFactory.Create("adamw", new ManagedParameterRule().Apply(model), options, new ConstantSchedule(1e-4));
        var closure = ClassifierLoss.Closure(model, input.Ids, input.Mask, input.Labels);
        return BenchmarkContext.MedianSeconds(() => optimizer.Step(closure), shape.Repeats, warmup: 2);
    }

}
