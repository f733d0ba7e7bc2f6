using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
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
/// One training step per optimizer on one device, roberta-base shapes (batch 32, length 128, bf16 compute on float32
/// master weights by default): ms/step, tokens/s and the GPU's peak memory. Each optimizer runs in a process of its own,
/// so its memory peak is its own (libtorch's caching allocator never gives memory back within a process). With
/// --anchor=FILE (pytorch-anchor.py's results from the same machine and run) PyTorch's figures stand beside ours.
/// </summary>
public sealed class DeviceSpeedBenchmark : IBenchmark
{
    public string Name => "device-speed";
    public string Description => "per optimizer on --device (default cuda): ms/step, tokens/s, peak GPU memory, roberta-base shapes, bf16; --anchor=pytorch-anchor.json beside; --only=galore,galore-per-matrix,lorenza,lorenza-per-matrix: the batched low-rank update against the per-matrix one";

    /// <summary>A timed optimizer setting; <paramref name="Anchor"/> names pytorch-anchor.py's row of the same method.</summary>
    private sealed record Variant(string Label, OptimizerAlgorithm Algorithm, string? Anchor, double ProbeFraction = OptimizerOptions.DefaultProbeBatchFraction,
                                  WordEmbeddingTreatment? WordEmbeddings = null, bool ProbesOnCpu = false, bool CudaOnly = false, bool UnfusedAttention = false,
                                  bool PerMatrixLowRank = false, bool OnRequest = false);

    private static readonly Variant[] Variants =
    [
        new("adamw", OptimizerAlgorithm.AdamW, "adamw"),
        new("galore", OptimizerAlgorithm.GaLore, "galore (steady state)"),
        new("lorenza", OptimizerAlgorithm.Lorenza, null),
        new("lorenza paper", OptimizerAlgorithm.Lorenza, "lorenza (steady state)", ProbeFraction: 1, WordEmbeddings: WordEmbeddingTreatment.Full),
        new("sam", OptimizerAlgorithm.Sam, "sam"),
        new("lorenza, probes drawn on the cpu", OptimizerAlgorithm.Lorenza, null, ProbesOnCpu: true, CudaOnly: true),
        new("adamw, attention unfused", OptimizerAlgorithm.AdamW, "adamw", CudaOnly: true, UnfusedAttention: true),
        new("lorenza, attention unfused", OptimizerAlgorithm.Lorenza, null, CudaOnly: true, UnfusedAttention: true),
        // Only when --only names them: the low-rank update matrix by matrix, as before BatchedLowRankGroup.
        new("galore-per-matrix", OptimizerAlgorithm.GaLore, "galore (steady state)", CudaOnly: true, PerMatrixLowRank: true, OnRequest: true),
        new("lorenza-per-matrix", OptimizerAlgorithm.Lorenza, null, CudaOnly: true, PerMatrixLowRank: true, OnRequest: true),
    ];

    public void Run(BenchmarkContext context)
    {
        if (context.Value("--child", "") is { Length: > 0 } child)
        {
            RunChild(context, Variants.Single(v => v.Label == child));
            return;
        }
        var device = context.Value("--device", "cuda");
        var rounds = context.Int("--rounds", 1);
        var only = context.Value("--only", "").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var variants = Variants.Where(v => ((only.Length == 0 ? !v.OnRequest : only.Contains(v.Label)) || v.Label == "adamw") && (!v.CudaOnly || device.StartsWith("cuda", StringComparison.Ordinal))).ToList();
        var runs = variants.ToDictionary(v => v.Label, _ => new List<JsonObject>());
        for (var round = 0; round < rounds; round++)
            foreach (var v in round % 2 == 0 ? variants : Enumerable.Reverse(variants))
            {
                JsonObject result;
                try { result = Child(context, v); }
                catch (InvalidOperationException e) when (v.Label != "adamw")
                {
                    Console.WriteLine($"  round {round + 1} {v.Label}: FAILED {string.Join(" | ", e.Message.Split('\n').Where(l => l.Contains("rror") || l.Contains("xception")).Take(3))}");
                    continue;
                }
                runs[v.Label].Add(result);
                Console.WriteLine($"  round {round + 1} {v.Label}: {result["ms_per_step"]!.GetValue<double>():F1} ms/step, peak {Mib(result, "peak_above_context_bytes")} MiB above the CUDA context");
            }
        Report(context, variants, runs);
    }

    // ---- the parent: one child process per variant and round, then the table ----

    private static JsonObject Child(BenchmarkContext context, Variant v)
    {
        var dll = typeof(DeviceSpeedBenchmark).Assembly.Location;
        var passed = context.Args.Where(a => !a.StartsWith("--rounds", StringComparison.Ordinal) && !a.StartsWith("--only", StringComparison.Ordinal) && !a.StartsWith("--anchor", StringComparison.Ordinal));
        var info = new ProcessStartInfo(Environment.ProcessPath!, [dll, "device-speed", "--child", v.Label, .. passed])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var line = stdout.Split('\n').FirstOrDefault(l => l.StartsWith(ResultPrefix, StringComparison.Ordinal));
        if (process.ExitCode != 0 || line is null)
            throw new InvalidOperationException($"device-speed child '{v.Label}' failed ({process.ExitCode}):\n{stdout}\n{stderr.Result}");
        return JsonNode.Parse(line[ResultPrefix.Length..])!.AsObject();
    }

    private const string ResultPrefix = "DEVICE-SPEED ";

    private static void Report(BenchmarkContext context, List<Variant> variants, Dictionary<string, List<JsonObject>> runs)
    {
        var anchor = context.Value("--anchor", "") is { Length: > 0 } path && File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path))!.AsObject() : null;
        JsonObject? AnchorRow(string? name) => name is null ? null : anchor?["runs"]?.AsArray().Select(r => r!.AsObject()).FirstOrDefault(r => r["name"]!.GetValue<string>() == name);
        double Median(string label, string key) => BenchmarkContext.Median(runs[label].Select(r => r[key]!.GetValue<double>()));
        var adamw = Median("adamw", "ms_per_step");
        var first = runs["adamw"][0];
        Console.WriteLine($"\n{first["device_name"]}, {first["shape"]} shapes, batch {first["batch"]}, length {first["sequence"]}, compute {first["precision"]}; median of {first["steps"]} steps after {first["warmup"]} (rounds: {runs["adamw"].Count})");
        var rows = new List<string[]> { new[] { "optimizer", "ms/step", "tokens/s", "vs adamw", "PyTorch ms/step", "tokens/s vs PyTorch", "peak MiB (NVML, above context)", "PyTorch peak MiB reserved / allocated", "state MiB" } };
        var results = new List<object>();
        foreach (var v in variants.Where(v => runs[v.Label].Count > 0))
        {
            double ms = Median(v.Label, "ms_per_step"), tokens = Median(v.Label, "tokens_per_second");
            var peak = runs[v.Label].Max(r => r["peak_above_context_bytes"]!.GetValue<long>());
            var torchRow = AnchorRow(v.Anchor);
            double? torchMs = torchRow?["ms_step"]?.GetValue<double>(), torchTokens = torchRow?["tokens_s"]?.GetValue<double>();
            double? torchReserved = torchRow?["peak_reserved_mb"]?.GetValue<double>(), torchAllocated = torchRow?["peak_mem_mb"]?.GetValue<double>();
            rows.Add([v.Label, $"{ms:F1}", $"{tokens:F0}", $"{ms / adamw:F2}", torchMs is { } t ? $"{t:F1}" : "-", torchTokens is { } tt ? $"{tokens / tt:F2}" : "-",
                      peak >= 0 ? $"{peak / 1048576.0:F0}" : "-", torchRow is null ? "-" : $"{torchReserved:F0} / {torchAllocated:F0}",
                      $"{runs[v.Label][0]["state_bytes"]!.GetValue<long>() / 1048576.0:F1}"]);
            results.Add(new { optimizer = v.Label, ms_per_step = ms, tokens_per_second = tokens, ratio_vs_adamw = ms / adamw, pytorch_ms_per_step = torchMs, tokens_vs_pytorch = torchTokens is { } x ? tokens / x : (double?)null,
                              peak_above_context_bytes = peak, pytorch_peak_reserved_mb = torchReserved, pytorch_peak_allocated_mb = torchAllocated, runs = runs[v.Label] });
        }
        BenchmarkContext.PrintTable(rows);
        if (first["breakdown"] is JsonObject parts)
            Console.WriteLine($"adamw's step in parts: forward+backward {parts["forward_backward_ms"]!.GetValue<double>():F1} ms, one probe forward (float32, {parts["probe_rows"]} rows) {parts["probe_forward_ms"]!.GetValue<double>():F1} ms");
        context.Save(new { anchor, rows = results });
    }

    private static string Mib(JsonObject result, string key) => result[key]!.GetValue<long>() is var b and >= 0 ? $"{b / 1048576.0:F0}" : "-";

    // ---- the child: one optimizer, timed ----

    private static void RunChild(BenchmarkContext context, Variant v)
    {
        var usedBefore = GpuMemorySampler.UsedNow(); // before this process touches the GPU
        TorchRuntime.EnsureLoaded();
        var device = ComputeDevice.Parse(context.Value("--device", "cuda")).Resolve();
        var cuda = device.type == DeviceType.CUDA;
        using (torch.ones(1, device: device)) Synchronize(device); // the CUDA context exists from here on
        var usedWithContext = GpuMemorySampler.UsedNow();

        var shape = context.Value("--shape", cuda ? "base" : "tiny");
        var config = shape == "base" ? RobertaConfig.Base() : RobertaConfig.Tiny(1000, 2);
        int batch = context.Int("--batch", 32), sequence = context.Int("--seq", shape == "base" ? 128 : 64);
        int warmup = context.Int("--warmup", 3), steps = context.Int("--steps", 20);
        var precision = context.Value("--precision", "bf16");
        using var model = RobertaForSequenceClassification.Create(config, 0);
        model.to(device);
        model.ComputeType = precision switch { "bf16" => ScalarType.BFloat16, "fp16" => ScalarType.Float16, _ => null };
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(1);
        var input = RandomBatch.Create(config, batch, sequence, generator);
        var (ids, mask, labels) = (input.Ids.to(device), input.Mask.to(device), input.Labels.to(device));
        var options = new OptimizerOptions { Algorithm = v.Algorithm, LearningRate = 1e-5, Rank = 8, RefreshInterval = 200, ProbeBatchFraction = v.ProbeFraction, WordEmbeddings = v.WordEmbeddings };
        SeededNormal.DrawOnCpu = v.ProbesOnCpu;
        TransformerSelfAttention.FusedOnGpu = !v.UnfusedAttention;
        BatchedLowRankGroup.OffOnGpu = v.PerMatrixLowRank;
        using var optimizer = OptimizerFactory.Create(v.Algorithm, ManagedParameterRule.Architecture.Apply(model), options, new ConstantSchedule(1e-5));
        var closure = ClassifierLoss.Closure(model, ids, mask, labels);

        using var sampler = new GpuMemorySampler();
        double last = 0;
        for (var i = 0; i < warmup; i++) last = optimizer.Step(closure).Loss;
        Synchronize(device);
        var times = new List<double>();
        for (var i = 0; i < steps; i++)
        {
            var watch = Stopwatch.StartNew();
            last = optimizer.Step(closure).Loss;
            Synchronize(device);
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
        var ms = BenchmarkContext.Median(times);
        object? breakdown = v.Algorithm == OptimizerAlgorithm.AdamW ? Breakdown(model, closure, device, batch) : null;
        var result = new
        {
            optimizer = v.Label, device = Devices.Describe(device), device_name = cuda ? GpuMemory.Query(0)?.Name ?? "cuda" : "cpu", shape, batch, sequence, precision, warmup, steps,
            ms_per_step = ms, best_ms = times.Min(), tokens_per_second = batch * sequence / (ms / 1e3), final_loss = last,
            peak_used_bytes = sampler.PeakUsedBytes, peak_process_bytes = sampler.PeakProcessBytes,
            context_bytes = usedWithContext >= 0 ? usedWithContext - usedBefore : -1,
            peak_above_context_bytes = usedWithContext >= 0 ? sampler.PeakUsedBytes - usedWithContext : -1,
            state_bytes = optimizer.StateBytes, breakdown,
        };
        Console.WriteLine(ResultPrefix + JsonSerializer.Serialize(result));
    }

    /// <summary>AdamW's step without the optimizer: a forward and backward of the batch, and one float32 probe forward of its first 1/8.</summary>
    private static object Breakdown(SequenceClassifier model, LossClosure closure, TorchSharp.torch.Device device, int batch)
    {
        double Time(Action action) => BenchmarkContext.MedianSeconds(() => { action(); Synchronize(device); }, 10, warmup: 2) * 1e3;
        var forwardBackward = Time(() =>
        {
            closure(LossMode.Train);
            foreach (var p in model.parameters()) p.grad = null;
        });
        var probe = Time(() => closure(LossMode.Eval, OptimizerOptions.DefaultProbeBatchFraction));
        return new { forward_backward_ms = forwardBackward, probe_forward_ms = probe, probe_rows = ClassifierLoss.ProbeRows(batch, OptimizerOptions.DefaultProbeBatchFraction) };
    }

    internal static void Synchronize(TorchSharp.torch.Device device)
    {
        if (device.type == DeviceType.CUDA) torch.cuda.synchronize(device);
    }
}
