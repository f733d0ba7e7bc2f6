using System.Text.Json;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Torch;

namespace Microsoft.ML.Lorenza.Benchmarks.Modeling;

/// <summary>Forward-pass time (eval, no grad, batch 8, seq 128) of our RoBERTa vs the same math in plain PyTorch, in one run.</summary>
public sealed class ForwardBenchmark : IBenchmark
{
    public string Name => "forward";
    public string Description => "RoBERTa forward time, tiny and roberta-base shapes: ours vs plain PyTorch (target ratio <= 1.1)";

    public void Run(BenchmarkContext context)
    {
        const int batch = 8, seq = 128;
        var repeats = context.Quick ? 3 : 10;
        var configs = new[] { ("tiny", RobertaConfig.Tiny(1000, 2)), ("roberta-base", RobertaConfig.Base()) };
        var ours = new Dictionary<string, double>();
        foreach (var (name, config) in configs)
        {
            using var model = RobertaForSequenceClassification.Create(config, 0);
            model.eval();
            using var scope = torch.NewDisposeScope();
            using var g = new Generator(1);
            var ids = (torch.rand([batch, seq], g) * (config.VocabSize - 3)).to(ScalarType.Int64) + 3;
            var mask = torch.ones([batch, seq], ScalarType.Int64);
            using var noGrad = torch.no_grad();
            ours[name] = BenchmarkContext.MedianSeconds(() => model.forward(ids, mask).Dispose(), repeats, warmup: 2);
        }
        var request = JsonSerializer.Serialize(new
        {
            configs = configs.Select(c => new { name = c.Item1, vocab = c.Item2.VocabSize, hidden = c.Item2.HiddenSize, layers = c.Item2.NumHiddenLayers, heads = c.Item2.NumAttentionHeads, ffn = c.Item2.IntermediateSize, positions = c.Item2.MaxPositionEmbeddings, labels = c.Item2.NumLabels }),
            batch, seq, repeats, threads = TorchRuntime.NumThreads,
        });
        using var reply = JsonDocument.Parse(BenchmarkContext.RunProcess(BenchmarkContext.Python, Path.Combine(BenchmarkContext.RepoRoot, "test", "reference", "bench_forward.py"), request));
        var rows = new List<string[]> { new[] { "model (batch 8, seq 128)", "ours ms", "PyTorch ms", "ours/PyTorch", "target" } };
        var results = new List<object>();
        foreach (var (name, _) in configs)
        {
            var theirs = reply.RootElement.GetProperty(name).GetDouble();
            rows.Add([name, $"{ours[name] * 1e3:F1}", $"{theirs * 1e3:F1}", $"{ours[name] / theirs:F2}", "<= 1.1"]);
            results.Add(new { model = name, ours_s = ours[name], pytorch_s = theirs, ratio = ours[name] / theirs });
        }
        BenchmarkContext.PrintTable(rows);
        context.Save(results);
    }
}
