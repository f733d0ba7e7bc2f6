using System.Diagnostics;
using Microsoft.ML.Lorenza.Configuration;
using Microsoft.ML.Lorenza.Datasets;
using Microsoft.ML.Lorenza.Inference;
using Microsoft.ML.Lorenza.Runtime;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Benchmarks.Precision;

/// <summary>
/// Prediction in float32 and in bf16 (what Precision = Auto picks on a CPU with AVX512_BF16): texts per second, in
/// alternating rounds, and how far bf16 moves the class probabilities and labels, on the model of --model (default: the
/// demo's lorenza-demo-model, MiniLM fine-tuned by `lorenza demo`) over the sample reviews and SST-2's dev set.
/// </summary>
public sealed class PredictPrecisionBenchmark : IBenchmark
{
    public string Name => "predict-precision";
    public string Description => "prediction float32 vs bf16 (--model DIR, default lorenza-demo-model): texts/s and the largest probability difference";

    public void Run(BenchmarkContext context)
    {
        var folder = context.Value("--model", Path.Combine(BenchmarkContext.RepoRoot, "lorenza-demo-model"));
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder} not found: run `./build.sh lorenza demo` first, or pass --model DIR.");
        var sets = new List<(string Name, List<string> Texts)> { ("sample reviews", BenchmarkContext.SampleReviews().Examples.Select(e => e.Text).ToList()) };
        if (BenchmarkContext.Sst2DevSentences() is { } sst2) sets.Add(("SST-2 dev", sst2));
        using var f32 = TextClassifier.Load(folder, CPU, ComputePrecision.None);
        using var bf16 = TextClassifier.Load(folder, CPU, ComputePrecision.Bf16);
        var rounds = context.Quick ? 1 : 3;
        var table = new List<string[]> { new[] { "texts", "count", "float32 texts/s", "bf16 texts/s", "bf16 speed-up", "max |Δp|", "labels agree" } };
        var results = new List<object>();
        foreach (var (name, set) in sets)
        {
            var (f32Times, bf16Times) = (new List<double>(), new List<double>());
            float[][] a = [], b = [];
            for (var round = 0; round < rounds; round++)
            {
                foreach (var bfFirst in round % 2 == 0 ? new[] { false, true } : [true, false])
                {
                    var watch = Stopwatch.StartNew();
                    var probabilities = (bfFirst ? bf16 : f32).PredictProbabilities(set);
                    (bfFirst ? bf16Times : f32Times).Add(watch.Elapsed.TotalSeconds);
                    if (bfFirst) b = probabilities; else a = probabilities;
                }
            }
            var maxDiff = a.Zip(b).Max(p => p.First.Zip(p.Second).Max(q => Math.Abs(q.First - q.Second)));
            var agree = a.Zip(b).Count(p => Array.IndexOf(p.First, p.First.Max()) == Array.IndexOf(p.Second, p.Second.Max())) / (double)a.Length;
            double f32Rate = set.Count / BenchmarkContext.Median(f32Times), bf16Rate = set.Count / BenchmarkContext.Median(bf16Times);
            table.Add([name, $"{set.Count}", $"{f32Rate:F0}", $"{bf16Rate:F0}", $"{bf16Rate / f32Rate:F2}×", $"{maxDiff:E2}", $"{agree:P2}"]);
            results.Add(new { texts = name, count = set.Count, float32_texts_per_s = f32Rate, bf16_texts_per_s = bf16Rate, max_probability_difference = maxDiff, label_agreement = agree });
        }
        BenchmarkContext.PrintTable(table);
        Console.WriteLine($"model {folder}; CPU bf16 instructions: {CpuFeatures.Bf16Instructions ?? "none (bf16 is emulated here, slower)"}; {TorchRuntime.NumThreads} threads");
        context.Save(new { model = folder, rows = results });
    }
}
