using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;

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
        RobertaVsPyTorch.Shape[] shapes = [new("tiny", RobertaConfig.Tiny(1000, 2), repeats), new("roberta-base", RobertaConfig.Base(), repeats)];
        var ours = new Dictionary<string, double>();
        foreach (var (name, config, _) in shapes)
        {
            using var model = RobertaForSequenceClassification.Create(config, 0);
            model.eval();
            using var scope = torch.NewDisposeScope();
            using var g = new Generator(1);
            var input = RandomBatch.Create(config, batch, seq, g);
            using var noGrad = torch.no_grad();
            ours[name] = BenchmarkContext.MedianSeconds(() => model.forward(input.Ids, input.Mask).Dispose(), repeats, warmup: 2);
        }
        RobertaVsPyTorch.CompareAndReport(context, "bench_forward.py", "model", shapes, batch, seq, ours);
    }
}
