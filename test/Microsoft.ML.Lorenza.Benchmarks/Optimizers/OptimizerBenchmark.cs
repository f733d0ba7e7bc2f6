using Microsoft.ML.Lorenza.Benchmarks.Modeling;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Benchmarks.Optimizers;

/// <summary>
/// Step time of every optimizer on the same model and batch, as ratios in one run (rounds in alternating order);
/// LORENZA with its defaults, as the paper has it (whole-batch probes, full embedding moments), with other probe
/// fractions and with ρ = 0; optimizer state bytes; range-finder refresh vs GaLore's full SVD; measured ascent
/// alignment (ZerothOrder vs Momentum).
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

    /// <summary>One timed configuration: an optimizer and the options that differ from the shared ones.</summary>
    private sealed record Variant(string Label, string Optimizer, AscentDirection Ascent = AscentDirection.ZerothOrder, double ProbeBatchFraction = OptimizerOptions.DefaultProbeBatchFraction,
                                  WordEmbeddingTreatment? WordEmbeddings = null);

    private static readonly Variant[] Variants =
    [
        new("adamw", "adamw"), new("sam", "sam"), new("galore", "galore"),
        new("lorenza", "lorenza"),
        new("lorenza paper", "lorenza", ProbeBatchFraction: 1, WordEmbeddings: WordEmbeddingTreatment.Full),
        new("lorenza probes 1/2", "lorenza", ProbeBatchFraction: 0.5),
        new("lorenza probes 1/4", "lorenza", ProbeBatchFraction: 0.25),
        new("lorenza rho=0", "lorenza", ProbeBatchFraction: 1), // set to ρ = 0 below: the cost of the subspace step alone
        new("lorenza momentum", "lorenza", AscentDirection.Momentum),
        new("lora", "lora"),
    ];

    public void Run(BenchmarkContext context)
    {
        var steps = context.Quick ? 3 : 6;
        var rounds = context.Quick ? 1 : int.Parse(Argument(context, "--rounds=")?[0] ?? "5", System.Globalization.CultureInfo.InvariantCulture);
        // --only=galore,lorenza (AdamW and GaLore are always timed: the ratios need them); --models=tiny-roberta
        var only = Argument(context, "--only=");
        var models = Argument(context, "--models=") ?? ["tiny-roberta", "roberta-base-block"];
        var variants = Variants.Where(v => only is null || only.Contains(v.Label) || v.Label is "adamw" or "galore").ToList();
        var rows = new List<string[]> { new[] { "model", "optimizer", "step ms", "vs adamw", "vs galore", "state MB", "ascent alignment" } };
        var results = new List<object>();
        foreach (var modelName in models)
        {
            // Every variant on its own copy of the model, timed in rounds of alternating order (the machine is shared):
            // a variant's time is the median over its rounds of the median step of each round (--rounds=N, default 5).
            var runs = variants.Select(v =>
            {
                var (module, closure, managedRule) = Build(modelName);
                var options = new OptimizerOptions
                {
                    LearningRate = 1e-4, Rank = 8, RefreshInterval = 200, Rho = v.Label == "lorenza rho=0" ? 0 : 0.05, AscentDirection = v.Ascent,
                    ProbeBatchFraction = v.ProbeBatchFraction, WordEmbeddings = v.WordEmbeddings,
                };
                var optimizer = OptimizerFactory.Create(v.Optimizer, managedRule.Apply(module), options, new ConstantSchedule(1e-4));
                optimizer.Step(closure);
                optimizer.Step(closure);
                return (Variant: v, Module: module, Closure: closure, Optimizer: optimizer, Times: new List<double>(), Alignment: new List<double>());
            }).ToList();
            for (var round = 0; round < rounds; round++)
            {
                foreach (var run in round % 2 == 0 ? runs : Enumerable.Reverse(runs))
                {
                    run.Times.Add(BenchmarkContext.MedianSeconds(() =>
                    {
                        run.Optimizer.Step(run.Closure);
                        if (run.Optimizer.LastDiagnostics.TryGetValue("ascent_alignment", out var a)) run.Alignment.Add(a);
                    }, steps, warmup: 0));
                }
            }
            // A ratio is the median over rounds of the ratio within each round, so a slow spell of the shared machine
            // that spans one round cancels out instead of landing on whichever variant it hit.
            double Ratio(List<double> times, string label)
            {
                var reference = runs.Single(r => r.Variant.Label == label).Times;
                return Median(times.Select((t, round) => t / reference[round]).ToList());
            }
            foreach (var run in runs)
            {
                var seconds = Median(run.Times);
                var (vsAdamW, vsGaLore) = (Ratio(run.Times, "adamw"), Ratio(run.Times, "galore"));
                var mean = run.Alignment.Count > 0 ? run.Alignment.Average() : double.NaN;
                rows.Add([modelName, run.Variant.Label, $"{seconds * 1e3:F1}", $"{vsAdamW:F2}", $"{vsGaLore:F2}",
                          $"{run.Optimizer.StateBytes / 1048576.0:F2}", double.IsNaN(mean) ? "-" : $"{mean:F4}"]);
                results.Add(new { model = modelName, optimizer = run.Variant.Label, step_s = seconds, ratio_vs_adamw = vsAdamW, ratio_vs_galore = vsGaLore,
                                  state_bytes = run.Optimizer.StateBytes, ascent_alignment = mean, rounds = run.Times });
                run.Optimizer.Dispose();
                run.Module.Dispose();
            }
        }
        BenchmarkContext.PrintTable(rows);

        var refresh = new List<string[]> { new[] { "matrix", "range finder ms (r=8)", "full SVD ms", "speed-up" } };
        foreach (var (m, n) in new[] { (768, 768), (768, 3072) })
        {
            using var scope = torch.NewDisposeScope();
            using var g = new Generator(0);
            var grad = torch.randn([m, n], generator: g);
            ulong seed = 0;
            var rf = BenchmarkContext.MedianSeconds(() => SubspaceProjector.RangeFinderBasis(grad, 8, 0, 0, seed++).Dispose(), context.Quick ? 3 : 7);
            var svd = BenchmarkContext.MedianSeconds(() => SubspaceProjector.SvdBasis(grad, 8).Dispose(), context.Quick ? 2 : 5);
            refresh.Add([$"{m}×{n}", $"{rf * 1e3:F2}", $"{svd * 1e3:F1}", $"{svd / rf:F0}×"]);
            results.Add(new { matrix = $"{m}x{n}", range_finder_s = rf, svd_s = svd, speedup = svd / rf });
        }
        Console.WriteLine();
        BenchmarkContext.PrintTable(refresh);
        context.Save(results);
    }

    private static string[]? Argument(BenchmarkContext context, string prefix) =>
        context.Args.FirstOrDefault(a => a.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..].Split(',');

    private static double Median(List<double> values) => BenchmarkContext.Median(values);

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
        double BlockClosure(LossMode mode, double fraction)
        {
            using var noGrad = mode == LossMode.Eval ? torch.no_grad() : null;
            using var rows = x.narrow(0, 0, mode == LossMode.Eval ? Microsoft.ML.Lorenza.Training.ClassifierLoss.ProbeRows(x.size(0), fraction) : x.size(0));
            using var loss = block.Forward(rows).pow(2).mean();
            if (mode == LossMode.Train) loss.backward();
            return loss.item<float>();
        }
        return (block, BlockClosure, ManagedParameterRule.AllLinearWeights);
    }
}
