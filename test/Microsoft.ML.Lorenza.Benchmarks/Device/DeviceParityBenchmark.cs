using Microsoft.ML.Lorenza.Benchmarks.Modeling;
using Microsoft.ML.Lorenza.Configuration;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Runtime;
using Microsoft.ML.Lorenza.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Benchmarks.Device;

/// <summary>
/// The same 20 training steps on the CPU and on --device (default cuda): a tiny RoBERTa, a fixed batch, no dropout, each
/// optimizer from the same initial weights, with the probes drawn on the CPU (<see cref="SeededNormal.DrawOnCpu"/>) so that
/// both devices see the same numbers. Float32 on the device must follow the CPU's float32 losses within
/// <see cref="Float32Tolerance"/> (relative, every step); bf16 compute within <see cref="Bf16Tolerance"/>, beside the CPU's own
/// bf16 for scale. A LORENZA run with another probe seed shows how far a real difference moves the losses.
/// </summary>
public sealed class DeviceParityBenchmark : IBenchmark
{
    /// <summary>Rounding only: other kernels' summation order, carried through 20 Adam steps.</summary>
    public const double Float32Tolerance = 1e-3;

    /// <summary>bf16 products keep 8 significant bits (relative 2⁻⁹ per product) on either device.</summary>
    public const double Bf16Tolerance = 1e-2;

    public string Name => "device-parity";
    public string Description => "20 steps of AdamW, GaLore and LORENZA on the CPU and on --device (cuda): losses within 1e-3 (float32) and 1e-2 (bf16)";

    private sealed record Setting(string Label, bool OnDevice, ScalarType? Compute, ulong ProbeSeed = 7, bool UnfusedAttention = false);

    public void Run(BenchmarkContext context)
    {
        TorchRuntime.EnsureLoaded();
        var device = ComputeDevice.Parse(context.Value("--device", "cuda")).Resolve();
        var steps = context.Int("--steps", 20);
        var settings = new[]
        {
            new Setting("cpu float32", false, null), new Setting("device float32", true, null), new Setting("cpu bf16", false, ScalarType.BFloat16),
            new Setting("device bf16", true, ScalarType.BFloat16), new Setting("cpu float32, other probe seed", false, null, ProbeSeed: 8),
            new Setting("device float32, attention unfused", true, null, UnfusedAttention: true), new Setting("device bf16, attention unfused", true, ScalarType.BFloat16, UnfusedAttention: true),
        };
        var rows = new List<string[]> { new[] { "optimizer", "setting", "first loss", "last loss", "max rel. diff vs cpu float32", "tolerance", "verdict" } };
        var results = new List<object>();
        var failures = 0;
        foreach (var algorithm in new[] { OptimizerAlgorithm.AdamW, OptimizerAlgorithm.GaLore, OptimizerAlgorithm.Lorenza })
        {
            var reference = Losses(algorithm, settings[0], device, steps);
            foreach (var setting in settings.Skip(1))
            {
                if (setting.ProbeSeed != 7 && algorithm != OptimizerAlgorithm.Lorenza) continue;
                var losses = Losses(algorithm, setting, device, steps);
                var diff = losses.Zip(reference, (a, b) => Math.Abs(a - b) / Math.Abs(b)).Max();
                double? tolerance = !setting.OnDevice ? null : setting.Compute is null ? Float32Tolerance : Bf16Tolerance;
                var verdict = tolerance is null ? "(for scale)" : double.IsFinite(diff) && diff <= tolerance ? "ok" : "FAIL";
                if (verdict == "FAIL") failures++;
                rows.Add([algorithm.Name, setting.Label, $"{losses[0]:F6}", $"{losses[^1]:F6}", $"{diff:E2}", tolerance is { } t ? $"{t:E0}" : "-", verdict]);
                results.Add(new { optimizer = algorithm.Name, setting = setting.Label, device = setting.OnDevice ? Devices.Describe(device) : "cpu", losses, reference, max_relative_difference = diff, tolerance, verdict });
            }
        }
        BenchmarkContext.PrintTable(rows);
        Console.WriteLine($"device: {Devices.Describe(device)}{(device.type == DeviceType.CUDA ? $" ({GpuMemory.Query(device.index < 0 ? 0 : device.index)?.Name})" : " (no CUDA here: the CPU against itself, a check of this benchmark only)")}; {failures} over tolerance");
        context.Save(new { device = Devices.Describe(device), steps, float32_tolerance = Float32Tolerance, bf16_tolerance = Bf16Tolerance, failures, rows = results });
        if (failures > 0) Environment.ExitCode = 1;
    }

    /// <summary>The per-step losses of <paramref name="steps"/> steps from the seed-0 tiny model on one fixed batch.</summary>
    private static double[] Losses(OptimizerAlgorithm algorithm, Setting setting, TorchSharp.torch.Device device, int steps)
    {
        var config = RobertaConfig.Tiny(1000, 2);
        (config.HiddenDropoutProb, config.AttentionProbsDropoutProb, config.ClassifierDropout) = (0, 0, 0);
        var target = setting.OnDevice ? device : CPU;
        using var model = RobertaForSequenceClassification.Create(config, 0);
        model.to(target);
        model.ComputeType = setting.Compute;
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(5);
        var input = RandomBatch.Create(config, 16, 32, generator);
        var options = new OptimizerOptions
        {
            Algorithm = algorithm, LearningRate = 1e-3, Rank = 4, RefreshInterval = 5, Rho = 0.5, ProbeBatchFraction = 1, Seed = setting.ProbeSeed,
        };
        var (previous, fused) = (SeededNormal.DrawOnCpu, TransformerSelfAttention.FusedOnGpu);
        SeededNormal.DrawOnCpu = true;
        TransformerSelfAttention.FusedOnGpu = !setting.UnfusedAttention;
        try
        {
            using var optimizer = OptimizerFactory.Create(algorithm, ManagedParameterRule.Architecture.Apply(model), options, new ConstantSchedule(1e-3));
            var closure = ClassifierLoss.Closure(model, input.Ids.to(target), input.Mask.to(target), input.Labels.to(target));
            return Enumerable.Range(0, steps).Select(_ => optimizer.Step(closure).Loss).ToArray();
        }
        finally
        {
            (SeededNormal.DrawOnCpu, TransformerSelfAttention.FusedOnGpu) = (previous, fused);
        }
    }
}
