using System.Diagnostics;
using Microsoft.ML.Lorenza.Benchmarks.Modeling;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Training;
using System.Text.Json;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Benchmarks.Torch;

/// <summary>
/// Which process-level settings make training fast on this machine, for a compute-bound step (a 4-layer
/// hidden-256 block, forward + backward) and an overhead-bound one (the tiny RoBERTa's whole AdamW step, a few
/// ms of many small ops). Each setting must be in the environment before the process starts, so the benchmark
/// re-runs itself as a child process per configuration (`process-settings --probe`), twice in alternating
/// order, and compares the children's median step times.
/// </summary>
public sealed class ProcessSettingsBenchmark : IBenchmark
{
    private const string Tunables = "glibc.malloc.trim_threshold=1073741824:glibc.malloc.mmap_threshold=1073741824";

    public string Name => "process-settings";
    public string Description => "step time under the malloc tuning, OMP_WAIT_POLICY and GOMP_SPINCOUNT (block and tiny-model steps)";

    public void Run(BenchmarkContext context)
    {
        if (context.Args.Contains("--probe"))
        {
            Probe(context.Quick ? 5 : 15);
            return;
        }

        const string Off = "0"; // LORENZA_PROCESS_TUNING=0: the library leaves the process as it found it
        var configs = new (string Label, Dictionary<string, string?> Env)[]
        {
            ("nothing set, in-process tuning off", new() { ["LORENZA_PROCESS_TUNING"] = Off }),
            ("env OMP_WAIT_POLICY=PASSIVE only", new() { ["LORENZA_PROCESS_TUNING"] = Off, ["OMP_WAIT_POLICY"] = "PASSIVE" }),
            ("env OMP_WAIT_POLICY=ACTIVE only", new() { ["LORENZA_PROCESS_TUNING"] = Off, ["OMP_WAIT_POLICY"] = "ACTIVE" }),
            ("env GLIBC_TUNABLES only", new() { ["LORENZA_PROCESS_TUNING"] = Off, ["GLIBC_TUNABLES"] = Tunables }),
            ("in-process malloc tuning (default)", new()),
            ("in-process + OMP_WAIT_POLICY=PASSIVE", new() { ["OMP_WAIT_POLICY"] = "PASSIVE" }),
            ("in-process + GOMP_SPINCOUNT=10000", new() { ["GOMP_SPINCOUNT"] = "10000" }),
        };
        string[] managed = ["LORENZA_PROCESS_TUNING", "OMP_WAIT_POLICY", "GLIBC_TUNABLES", "GOMP_SPINCOUNT"];

        var runs = configs.ToDictionary(c => c.Label, _ => new List<(double Block, double Tiny)>());
        foreach (var round in new[] { 0, 1 })
        {
            foreach (var (label, env) in round == 0 ? configs : configs.Reverse())
            {
                var info = new ProcessStartInfo(Environment.ProcessPath!, [typeof(ProcessSettingsBenchmark).Assembly.Location, Name, "--probe", .. context.Quick ? new[] { "--quick" } : []])
                {
                    RedirectStandardOutput = true,
                    UseShellExecute = false,
                };
                foreach (var key in managed) info.Environment.Remove(key);
                foreach (var (key, value) in env) info.Environment[key] = value;
                using var child = Process.Start(info)!;
                var output = child.StandardOutput.ReadToEnd();
                child.WaitForExit();
                var json = JsonDocument.Parse(output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last()).RootElement;
                runs[label].Add((json.GetProperty("block_ms").GetDouble(), json.GetProperty("tiny_ms").GetDouble()));
            }
        }

        var results = configs.Select(c => (c.Label, Block: runs[c.Label].Average(r => r.Block), Tiny: runs[c.Label].Average(r => r.Tiny))).ToList();
        var (baseBlock, baseTiny) = (results[0].Block, results[0].Tiny);
        var rows = new List<string[]> { new[] { "configuration", "block step ms", "vs first row", "tiny AdamW step ms", "vs first row" } };
        rows.AddRange(results.Select(r => new[] { r.Label, $"{r.Block:F1}", $"{r.Block / baseBlock:F2}", $"{r.Tiny:F2}", $"{r.Tiny / baseTiny:F2}" }));
        BenchmarkContext.PrintTable(rows);
        Console.WriteLine("(each cell: mean of two child processes, run in opposite orders; each child reports its median step)");
        context.Save(results.Select(r => new { configuration = r.Label, block_ms = r.Block, block_ratio = r.Block / baseBlock, tiny_ms = r.Tiny, tiny_ratio = r.Tiny / baseTiny }));
    }

    private static void Probe(int steps) =>
        Console.WriteLine(JsonSerializer.Serialize(new { block_ms = BlockStepMs(steps), tiny_ms = TinyStepMs(steps * 4) }));

    // The tiny RoBERTa (hidden 64, 2 layers) AdamW step on batch 32, seq 64: overhead-bound.
    private static double TinyStepMs(int steps)
    {
        var config = RobertaConfig.Tiny(1000, 2);
        using var model = RobertaForSequenceClassification.Create(config, 0);
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(1);
        var input = RandomBatch.Create(config, 32, 64, g);
        using var optimizer = OptimizerFactory.Create("adamw", new ManagedParameterRule().Apply(model), new OptimizerOptions { LearningRate = 1e-3 }, new ConstantSchedule(1e-3));
        var closure = ClassifierLoss.Closure(model, input.Ids, input.Mask, input.Labels);
        return BenchmarkContext.MedianSeconds(() => optimizer.Step(closure), steps, warmup: 5) * 1e3;
    }

    // A transformer-block-like forward + backward (batch 8, seq 128, hidden 256, FFN 1024, 4 layers).
    private static double BlockStepMs(int steps)
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(0);
        const int hidden = 256, ffn = 1024, layers = 4;
        using var initScale = 0.05.ToScalar();
        var weights = Enumerable.Range(0, layers).Select(_ => (
            qkv: torch.randn([3 * hidden, hidden], generator: g).mul_(initScale).requires_grad_(),
            up: torch.randn([ffn, hidden], generator: g).mul_(initScale).requires_grad_(),
            down: torch.randn([hidden, ffn], generator: g).mul_(initScale).requires_grad_())).ToArray();
        var input = torch.randn([8, 128, hidden], generator: g);
        using var sixteen = 16.0.ToScalar();

        void Step()
        {
            using var inner = torch.NewDisposeScope();
            var x = input;
            foreach (var (qkv, up, down) in weights)
            {
                var parts = F.linear(x, qkv).chunk(3, -1);
                var attention = F.softmax(torch.matmul(parts[0], parts[1].transpose(-2, -1)).div_(sixteen), -1);
                x = F.layer_norm(x + torch.matmul(attention, parts[2]), [hidden]);
                x = F.layer_norm(x + F.linear(F.gelu(F.linear(x, up)), down), [hidden]);
            }
            x.pow(2).mean().backward();
            foreach (var (qkv, up, down) in weights) { qkv.grad = null; up.grad = null; down.grad = null; }
        }

        for (var i = 0; i < 3; i++) Step();
        var times = new double[steps];
        for (var i = 0; i < steps; i++)
        {
            var watch = Stopwatch.StartNew();
            Step();
            times[i] = watch.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return times[steps / 2];
    }
}
