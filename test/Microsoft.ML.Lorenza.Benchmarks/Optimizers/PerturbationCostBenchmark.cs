using Microsoft.ML.Lorenza.Benchmarks.Modeling;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Training;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Benchmarks.Optimizers;

/// <summary>
/// Where LORENZA's extra step time goes on the tiny model (batch 32 × 64 tokens): the train forward/backward and a
/// probe forward, each without and with rank-8 side branches on every managed matrix, the whole zeroth-order estimate
/// (two probes and their noise), and whole LORENZA and GaLore steps; alternating rounds, medians.
/// </summary>
public sealed class PerturbationCostBenchmark : IBenchmark
{
    public string Name => "perturbation-cost";
    public string Description => "LORENZA's extra step time, part by part: side branches, probes, the estimate (tiny RoBERTa)";

    public void Run(BenchmarkContext context)
    {
        using var g = new Generator(3);
        var config = RobertaConfig.Tiny(1000, 2);
        using var model = RobertaForSequenceClassification.Create(config, 0);
        var input = RandomBatch.Create(config, 32, 64, g);
        var closure = ClassifierLoss.Closure(model, input.Ids, input.Mask, input.Labels);
        var managed = ManagedParameterRule.Architecture.Apply(model).Where(p => p.Managed).ToList();
        const int rank = 8;
        var bases = managed.Select(p => torch.linalg.qr(torch.randn([p.Tensor.size(0), rank], generator: g)).Q).ToList();
        var directions = managed.Select(p => torch.randn([rank, p.Tensor.size(1)], generator: g)).ToList();
        void Branches(bool on)
        {
            for (var i = 0; i < managed.Count; i++)
                managed[i].Layer!.Delta = on ? new LowRankDelta(bases[i], directions[i], 0.01) : null;
        }
        void ZeroGrad()
        {
            foreach (var p in model.parameters()) p.grad = null;
        }
        var probe = OptimizerOptions.DefaultProbeBatchFraction;
        var options = new OptimizerOptions { Rank = rank };
        IOptimizer Create(string name, OptimizerOptions o) => OptimizerFactory.Create(name, ManagedParameterRule.Architecture.Apply(model), o, new ConstantSchedule(1e-4));
        using var lorenza = (AdamFamilyOptimizer)Create("lorenza", options);
        using var momentum = Create("lorenza", new OptimizerOptions { Rank = rank, AscentDirection = AscentDirection.Momentum });
        using var rhoZero = Create("lorenza", new OptimizerOptions { Rank = rank, Rho = 0 });
        using var galore = Create("galore", options);
        var cases = new (string Label, Action Body)[]
        {
            ("train forward+backward", () => { ZeroGrad(); closure(LossMode.Train); }),
            ("  the same with side branches", () => { Branches(true); ZeroGrad(); closure(LossMode.Train); Branches(false); }),
            ($"probe forward ({probe:G3} of the batch)", () => closure(LossMode.Eval, probe)),
            ("  the same with side branches", () => { Branches(true); closure(LossMode.Eval, probe); Branches(false); }),
            ("zeroth-order estimate (2 probes, noise)", () => { using var scope = torch.NewDisposeScope(); lorenza.ZerothOrderEstimate(closure); }),
            ("LORENZA step", () => lorenza.Step(closure)),
            ("LORENZA step, momentum ascent", () => momentum.Step(closure)),
            ("LORENZA step, ρ = 0", () => rhoZero.Step(closure)),
            ("GaLore step", () => galore.Step(closure)),
        };
        foreach (var o in new[] { lorenza, momentum, rhoZero, galore }) o.Step(closure); // the first step draws the bases; probes start at the second
        foreach (var c in cases) c.Body();
        var rounds = context.Quick ? 1 : 5;
        var times = cases.Select(_ => new List<double>()).ToArray();
        for (var round = 0; round < rounds; round++)
            foreach (var i in round % 2 == 0 ? Enumerable.Range(0, cases.Length) : Enumerable.Range(0, cases.Length).Reverse())
                times[i].Add(BenchmarkContext.MedianSeconds(cases[i].Body, context.Quick ? 3 : 7, warmup: 1));
        var rows = new List<string[]> { new[] { "part", "ms" } };
        rows.AddRange(cases.Select((c, i) => new[] { c.Label, $"{BenchmarkContext.Median(times[i]) * 1e3:F2}" }));
        BenchmarkContext.PrintTable(rows);
        context.Save(cases.Select((c, i) => new { part = c.Label.Trim(), median_s = BenchmarkContext.Median(times[i]), rounds_s = times[i] }).ToList());
        foreach (var t in bases.Concat(directions)) t.Dispose();
    }
}
