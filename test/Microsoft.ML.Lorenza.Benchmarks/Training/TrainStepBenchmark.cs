using Microsoft.ML.Lorenza.Benchmarks.Modeling;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;
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
        RobertaVsPyTorch.Shape[] shapes = [new("tiny", RobertaConfig.Tiny(1000, 2), context.Quick ? 5 : 40), new("roberta-base", RobertaConfig.Base(), context.Quick ? 2 : 7)];
        var ours = new Dictionary<string, double>();
        foreach (var (name, config, repeats) in shapes)
        {
            (config.HiddenDropoutProb, config.AttentionProbsDropoutProb, config.ClassifierDropout) = (0, 0, 0);
            using var model = RobertaForSequenceClassification.Create(config, 0);
            using var scope = torch.NewDisposeScope();
            using var g = new Generator(1);
            var input = RandomBatch.Create(config, batch, seq, g);
            var options = new OptimizerOptions { LearningRate = 1e-4, WeightDecay = 0.01 };
            using var optimizer = OptimizerFactory.Create("adamw", new ManagedParameterRule().Apply(model), options, new ConstantSchedule(1e-4));
            var closure = ClassifierLoss.Closure(model, input.Ids, input.Mask, input.Labels);
            ours[name] = BenchmarkContext.MedianSeconds(() => optimizer.Step(closure), repeats, warmup: 2);
            Console.WriteLine($"  ours {name}: {ours[name] * 1e3:F1} ms/step");
        }
        RobertaVsPyTorch.CompareAndReport(context, "bench_train_step.py", "AdamW step", shapes, batch, seq, ours);
    }
}
