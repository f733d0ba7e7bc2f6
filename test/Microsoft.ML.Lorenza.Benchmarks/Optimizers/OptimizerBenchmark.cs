using Microsoft.ML.Lorenza.Benchmarks.Modeling;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Lorenza.Benchmarks.Optimizers;

/// <summary>
/// Step time of every optimizer on the same model and batch, as ratios in one run; optimizer state
/// bytes; range-finder refresh vs GaLore's full SVD; measured ascent alignment (ZerothOrder vs Momentum).
/// </summary>
public sealed class OptimizerBenchmark : IBenchmark
{
    public string Name => "optimizers";
    public string Description => "step-time ratios (LORENZA/AdamW etc.), state bytes, range finder vs SVD, ascent alignment";

    /// <summary>One RoBERTa-base block's weight shapes (4× 768×768, 3072×768, 768×3072) with a GELU FFN.</summary>
    private sealed class BaseBlock : nn.Module
    {
        public BaseBlock() : base(nameof(BaseBlock))
        {
            foreach (var (name, i, o) in new[] { ("query", 768, 768), ("key", 768, 768), ("value", 768, 768), ("output", 768, 768), ("intermediate", 768, 3072), ("down", 3072, 768) })
                register_module(name, Layers[name] = new SideBranchLinear(i, o));
            using var g = new Generator(0);
            using var noGrad = torch.no_grad();
            foreach (var l in Layers.Values) l.weight.normal_(0, 0.02, g);
        }

        public Dictionary<string, SideBranchLinear> Layers { get; } = new();

        public Tensor Forward(Tensor x)
        {
            using var scope = torch.NewDisposeScope();
            var attention = Layers["output"].forward(Layers["query"].forward(x) * F.sigmoid(Layers["key"].forward(x)) + Layers["value"].forward(x));
            var h = F.layer_norm(x + attention, [768]);
            return F.layer_norm(h + Layers["down"].forward(F.gelu(Layers["intermediate"].forward(h))), [768]).MoveToOuterDisposeScope();
        }
    }

    public void Run(BenchmarkContext context)
    {
        var steps = context.Quick ? 3 : 8;
        var rows = new List<string[]> { new[] { "model", "optimizer", "step ms", "vs adamw", "state MB", "ascent alignment" } };
        var results = new List<object>();
        foreach (var modelName in new[] { "tiny-roberta", "roberta-base-block" })
        {
            var times = new Dictionary<string, double>();
            foreach (var (label, name, ascent) in new[] { ("adamw", "adamw", AscentDirection.ZerothOrder), ("sam", "sam", AscentDirection.ZerothOrder), ("galore", "galore", AscentDirection.ZerothOrder),
                         ("lorenza", "lorenza", AscentDirection.ZerothOrder), ("lorenza-momentum", "lorenza", AscentDirection.Momentum), ("lora", "lora", AscentDirection.ZerothOrder) })
            {
                var (module, closure, managedRule) = Build(modelName);
                using var _ = module;
                var options = new OptimizerOptions { LearningRate = 1e-4, Rank = 8, RefreshInterval = 200, Rho = 0.05, AscentDirection = ascent };
                using var optimizer = OptimizerFactory.Create(name, managedRule.Apply(module), options, new ConstantSchedule(1e-4));
                optimizer.Step(closure);
                optimizer.Step(closure);
                var alignment = new List<double>();
                var seconds = BenchmarkContext.MedianSeconds(() =>
                {
                    optimizer.Step(closure);
                    if (optimizer.LastDiagnostics.TryGetValue("ascent_alignment", out var a)) alignment.Add(a);
                }, steps, warmup: 0);
                times[label] = seconds;
                var mean = alignment.Count > 0 ? alignment.Average() : double.NaN;
                rows.Add([modelName, label, $"{seconds * 1e3:F1}", $"{seconds / times["adamw"]:F2}", $"{optimizer.StateBytes / 1048576.0:F2}", double.IsNaN(mean) ? "-" : $"{mean:F4}"]);
                results.Add(new { model = modelName, optimizer = label, step_s = seconds, ratio_vs_adamw = seconds / times["adamw"], state_bytes = optimizer.StateBytes, ascent_alignment = mean });
            }
            rows.Add([modelName, "lorenza/sam", "", $"{times["lorenza"] / times["sam"]:F2}", "", ""]);
        }
        BenchmarkContext.PrintTable(rows);

        var refresh = new List<string[]> { new[] { "matrix", "range finder ms (r=8)", "full SVD ms", "speed-up" } };
        foreach (var (m, n) in new[] { (768, 768), (768, 3072) })
        {
            using var scope = torch.NewDisposeScope();
            using var g = new Generator(0);
            var grad = torch.randn([m, n], generator: g);
            var rf = BenchmarkContext.MedianSeconds(() => RangeFinder.LeftBasis(grad, 8, 0, 0, g).Dispose(), context.Quick ? 3 : 7);
            var svd = BenchmarkContext.MedianSeconds(() => RangeFinder.SvdLeftBasis(grad, 8).Dispose(), context.Quick ? 2 : 5);
            refresh.Add([$"{m}×{n}", $"{rf * 1e3:F2}", $"{svd * 1e3:F1}", $"{svd / rf:F0}×"]);
            results.Add(new { matrix = $"{m}x{n}", range_finder_s = rf, svd_s = svd, speedup = svd / rf });
        }
        Console.WriteLine();
        BenchmarkContext.PrintTable(refresh);
        context.Save(results);
    }

    private static (nn.Module Module, LossClosure Closure, ManagedParameterRule Rule) Build(string name)
    {
        using var g = new Generator(3);
        if (name == "tiny-roberta")
        {
            var config = RobertaConfig.Tiny(1000, 2);
            var model = RobertaForSequenceClassification.Create(config, 0);
            var input = RandomBatch.Create(config, 32, 64, g);
            var (ids, mask, labels) = (input.Ids.DetachFromDisposeScope(), input.Mask.DetachFromDisposeScope(), input.Labels.DetachFromDisposeScope());
            return (model, Microsoft.ML.Lorenza.Training.ClassifierLoss.Closure(model, ids, mask, labels), new ManagedParameterRule());
        }
        var block = new BaseBlock();
        var x = torch.randn([8 * 128, 768], generator: g).DetachFromDisposeScope();
        double BlockClosure(LossMode mode)
        {
            using var noGrad = mode == LossMode.Eval ? torch.no_grad() : null;
            using var loss = block.Forward(x).pow(2).mean();
            if (mode == LossMode.Train) loss.backward();
            return loss.item<float>();
        }
        return (block, BlockClosure, ManagedParameterRule.AllLinearWeights);
    }
}
