using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Lorenza.Benchmarks.Torch;

/// <summary>
/// Which process-level settings make a training step fast on this machine. Each setting must be in
/// the environment before the process starts, so the benchmark re-runs itself as a child process per
/// configuration (`process-settings --probe`) and compares the children's median step times in one run.
/// </summary>
public sealed class ProcessSettingsBenchmark : IBenchmark
{
    private const string Tunables = "glibc.malloc.trim_threshold=1073741824:glibc.malloc.mmap_threshold=1073741824";

    public string Name => "process-settings";
    public string Description => "step time under OMP_WAIT_POLICY, GLIBC_TUNABLES and BLAS thread ownership";

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
            ("env GLIBC_TUNABLES only", new() { ["LORENZA_PROCESS_TUNING"] = Off, ["GLIBC_TUNABLES"] = Tunables }),
            ("env, both", new() { ["LORENZA_PROCESS_TUNING"] = Off, ["OMP_WAIT_POLICY"] = "PASSIVE", ["GLIBC_TUNABLES"] = Tunables }),
            ("in-process tuning (default, no env)", new()),
            ("in-process + OPENBLAS_NUM_THREADS=1", new() { ["OPENBLAS_NUM_THREADS"] = "1" }),
        };
        string[] managed = ["LORENZA_PROCESS_TUNING", "OMP_WAIT_POLICY", "GLIBC_TUNABLES", "OPENBLAS_NUM_THREADS"];

        var results = new List<(string Label, double Median, double Spread)>();
        foreach (var (label, env) in configs)
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
            results.Add((label, json.GetProperty("median_ms").GetDouble(), json.GetProperty("p90_over_p10").GetDouble()));
        }

        var baseline = results[0].Median;
        var rows = new List<string[]> { new[] { "configuration", "median step ms", "p90/p10", "vs first row" } };
        rows.AddRange(results.Select(r => new[] { r.Label, $"{r.Median:F1}", $"{r.Spread:F2}", $"{r.Median / baseline:F2}" }));
        BenchmarkContext.PrintTable(rows);
        context.Save(results.Select(r => new { configuration = r.Label, median_ms = r.Median, p90_over_p10 = r.Spread, ratio = r.Median / baseline }));
    }

    // A transformer-block-like forward + backward (batch 8, seq 128, hidden 256, FFN 1024, 4 layers).
    private static void Probe(int steps)
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(0);
        const int hidden = 256, ffn = 1024, layers = 4;
        var weights = Enumerable.Range(0, layers).Select(_ => (
            qkv: (torch.randn([3 * hidden, hidden], generator: g) * 0.05).requires_grad_(),
            up: (torch.randn([ffn, hidden], generator: g) * 0.05).requires_grad_(),
            down: (torch.randn([hidden, ffn], generator: g) * 0.05).requires_grad_())).ToArray();
        var input = torch.randn([8, 128, hidden], generator: g);

        void Step()
        {
            using var inner = torch.NewDisposeScope();
            var x = input;
            foreach (var (qkv, up, down) in weights)
            {
                var parts = F.linear(x, qkv).chunk(3, -1);
                var attention = F.softmax(torch.matmul(parts[0], parts[1].transpose(-2, -1)) / 16.0, -1);
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
        var p10 = times[steps / 10];
        var p90 = times[steps * 9 / 10];
        Console.WriteLine(JsonSerializer.Serialize(new { median_ms = times[steps / 2], p90_over_p10 = p90 / p10 }));
    }
}
