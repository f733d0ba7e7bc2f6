using System.Text.Json;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Torch;
using Microsoft.ML.Lorenza.Training;

namespace Microsoft.ML.Lorenza.Benchmarks.Training;

/// <summary>
/// Engine overhead on a whole training step: forward, cross-entropy, backward and our AdamW update of a
/// RoBERTa classifier (batch 8, seq 128, no dropout) against the same math with torch.optim.AdamW in plain
/// PyTorch on the same CPU, in one run.
/// </summary>
public sealed class TrainStepBenchmark : IBenchmark
{
    public string Name => "train-step";
    public string Description => "AdamW training step (fwd + bwd + update), tiny and roberta-base shapes: ours vs plain PyTorch (target ratio <= 1.1)";

    public void Run(BenchmarkContext context)
    {
        const int batch = 8, seq = 128;
        // A tiny step takes milliseconds and a base step seconds: more repeats for the tiny one, for a stable median.
        var configs = new[] { ("tiny", RobertaConfig.Tiny(1000, 2), context.Quick ? 5 : 40), ("roberta-base", RobertaConfig.Base(), context.Quick ? 2 : 7) };
        var ours = new Dictionary<string, double>();
        foreach (var (name, config, repeats) in configs)
        {
            (config.HiddenDropoutProb, config.AttentionProbsDropoutProb, config.ClassifierDropout) = (0, 0, 0);
            using var model = RobertaForSequenceClassification.Create(config, 0);
            using var scope = torch.NewDisposeScope();
            using var g = new Generator(1);
            var ids = (torch.rand([batch, seq], g) * (config.VocabSize - 3)).to(ScalarType.Int64) + 3;
            var mask = torch.ones([batch, seq], ScalarType.Int64);
            var labels = (torch.rand([batch], g) * config.NumLabels).to(ScalarType.Int64);
            var options = new OptimizerOptions { LearningRate = 1e-4, WeightDecay = 0.01 };
            using var optimizer = OptimizerFactory.Create("adamw", new ManagedParameterRule().Apply(model), options, new ConstantSchedule(1e-4));
            var closure = ClassifierLoss.Closure(model, ids, mask, labels);
            ours[name] = BenchmarkContext.MedianSeconds(() => optimizer.Step(closure), repeats, warmup: 2);
            Console.WriteLine($"  ours {name}: {ours[name] * 1e3:F1} ms/step");
        }
        var request = JsonSerializer.Serialize(new
        {
            configs = configs.Select(c => new { name = c.Item1, repeats = c.Item3, vocab = c.Item2.VocabSize, hidden = c.Item2.HiddenSize, layers = c.Item2.NumHiddenLayers, heads = c.Item2.NumAttentionHeads, ffn = c.Item2.IntermediateSize, positions = c.Item2.MaxPositionEmbeddings, labels = c.Item2.NumLabels }),
            batch, seq, threads = TorchRuntime.NumThreads,
        });
        using var reply = JsonDocument.Parse(BenchmarkContext.RunProcess(BenchmarkContext.Python, Path.Combine(BenchmarkContext.RepoRoot, "test", "reference", "bench_train_step.py"), request));
        var rows = new List<string[]> { new[] { "AdamW step (batch 8, seq 128)", "ours ms", "PyTorch ms", "ours/PyTorch", "target" } };
        var results = new List<object>();
        foreach (var (name, _, _) in configs)
        {
            var theirs = reply.RootElement.GetProperty(name).GetDouble();
            rows.Add([name, $"{ours[name] * 1e3:F1}", $"{theirs * 1e3:F1}", $"{ours[name] / theirs:F2}", "<= 1.1"]);
            results.Add(new { model = name, ours_s = ours[name], pytorch_s = theirs, ratio = ours[name] / theirs });
        }
        BenchmarkContext.PrintTable(rows);
        context.Save(results);
    }
}
