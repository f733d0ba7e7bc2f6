using System.Globalization;

namespace Microsoft.ML.Lorenza.Benchmarks.Training.LearningRateSweep;

/// <summary>
/// The sweep's cells (data set, optimizer, rate → accuracies over seeds) and, per optimizer and start (pretrained data sets
/// together, scratch apart), the rate with the best mean accuracy over the data sets and what its grid neighbours lose.
/// </summary>
public sealed class SweepAnalysis
{
    public const string Scratch = "scratch";
    private const string PretrainedMean = "mean (fine-tuning)";

    public IReadOnlyList<string> Datasets { get; }
    public IReadOnlyList<string> Optimizers { get; }
    private readonly Dictionary<(string Data, string Optimizer, double Rate), List<double>> cells;

    private SweepAnalysis(List<SweepRun> runs)
    {
        Datasets = runs.Select(r => r.Data).Distinct().ToList();
        Optimizers = runs.Select(r => r.Optimizer).Distinct().ToList();
        cells = runs.GroupBy(r => (r.Data, r.Optimizer, r.Rate)).ToDictionary(g => g.Key, g => g.Select(r => r.Accuracy).ToList());
    }

    public static SweepAnalysis Of(List<SweepRun> runs) => new(runs);

    public IReadOnlyList<double> RatesOf(string data, string optimizer) =>
        cells.Keys.Where(k => k.Data == data && k.Optimizer == optimizer).Select(k => k.Rate).Order().ToList();

    public double? Mean(string data, string optimizer, double rate) => cells.TryGetValue((data, optimizer, rate), out var v) ? v.Average() : null;

    /// <summary>The fine-tuning data sets (all but scratch) <paramref name="optimizer"/> ran on.</summary>
    public IReadOnlyList<string> FineTuningSets(string optimizer) => Datasets.Where(d => d != Scratch && RatesOf(d, optimizer).Count > 0).ToList();

    /// <summary>The mean over the fine-tuning data sets the optimizer ran on, at rates every one of them has; empty without such data.</summary>
    public IReadOnlyList<(double Rate, double Accuracy)> FineTuningCurve(string optimizer) => FineTuningCurve(optimizer, FineTuningSets(optimizer));

    private IReadOnlyList<(double Rate, double Accuracy)> FineTuningCurve(string optimizer, IReadOnlyList<string> sets)
    {
        if (sets.Count == 0) return [];
        return sets.Select(d => RatesOf(d, optimizer)).Aggregate((a, b) => a.Intersect(b).ToList())
            .Select(rate => (rate, sets.Average(d => Mean(d, optimizer, rate)!.Value))).ToList();
    }

    public IReadOnlyList<(double Rate, double Accuracy)> Curve(string data, string optimizer) =>
        data == PretrainedMean ? FineTuningCurve(optimizer) : RatesOf(data, optimizer).Select(r => (r, Mean(data, optimizer, r)!.Value)).ToList();

    /// <summary>The panels of the plot: each data set, then the fine-tuning mean.</summary>
    public IEnumerable<string> Panels => Datasets.Count(d => d != Scratch) > 1 ? Datasets.Append(PretrainedMean) : Datasets;

    /// <summary>Per optimizer and start: the best rate of the curve, its accuracy, and the points the neighbouring rates lose.</summary>
    public IReadOnlyList<Choice> Best()
    {
        var choices = new List<Choice>();
        foreach (var optimizer in Optimizers)
            foreach (var (start, curve) in new[] { ("fine-tuning", FineTuningCurve(optimizer)), (Scratch, Datasets.Contains(Scratch) ? Curve(Scratch, optimizer) : []) })
            {
                if (curve.Count == 0) continue;
                var perData = (start == Scratch ? [Scratch] : FineTuningSets(optimizer))
                    .ToDictionary(d => d, d => RatesOf(d, optimizer).MaxBy(r => Mean(d, optimizer, r)!.Value));
                choices.Add(ChoiceOf(optimizer, start, curve, perData));
            }
        return choices;
    }

    /// <summary>
    /// Per optimizer family and start: the rate whose accuracy, averaged over the family's optimizers (each on its own curve,
    /// at rates they all have), is best — the default the family gets.
    /// </summary>
    public IReadOnlyList<Choice> BestPerFamily()
    {
        var choices = new List<Choice>();
        foreach (var family in Optimizers.GroupBy(o => global::Microsoft.ML.Lorenza.Optimizers.OptimizerFactory.Find(o).Family))
        {
            // Fine-tuning: the data sets every optimizer of the family ran on, so their curves average like with like.
            var shared = family.Select(FineTuningSets).Aggregate((a, b) => a.Intersect(b).ToList());
            foreach (var (start, curveOf) in new (string, Func<string, IReadOnlyList<(double Rate, double Accuracy)>>)[]
                     { ($"fine-tuning ({string.Join(", ", shared)})", o => FineTuningCurve(o, shared)), (Scratch, o => Datasets.Contains(Scratch) ? Curve(Scratch, o) : []) })
            {
                var curves = family.Select(o => curveOf(o)).Where(c => c.Count > 0).ToList();
                if (curves.Count == 0) continue;
                var rates = curves.Select(c => c.Select(p => p.Rate)).Aggregate((a, b) => a.Intersect(b)).Order().ToList();
                if (rates.Count == 0) continue;
                var curve = rates.Select(r => (Rate: r, Accuracy: curves.Average(c => c.Single(p => p.Rate == r).Accuracy))).ToList();
                choices.Add(ChoiceOf($"{family.Key} ({string.Join(", ", family)})", start, curve,
                    family.Where(o => curveOf(o).Count > 0).ToDictionary(o => o, o => curveOf(o).MaxBy(p => p.Accuracy).Rate)));
            }
        }
        return choices;
    }

    /// <summary>The curve's best rate and what one grid step below and above it loses.</summary>
    private static Choice ChoiceOf(string label, string start, IReadOnlyList<(double Rate, double Accuracy)> curve, IReadOnlyDictionary<string, double> bestPerPart)
    {
        var best = Enumerable.Range(0, curve.Count).MaxBy(i => curve[i].Accuracy);
        double? Loss(int i) => i >= 0 && i < curve.Count ? curve[best].Accuracy - curve[i].Accuracy : null;
        return new Choice(label, start, curve[best].Rate, curve[best].Accuracy, Loss(best - 1), Loss(best + 1), bestPerPart);
    }

    public sealed record Choice(string Optimizer, string Start, double Rate, double Accuracy, double? LowerNeighbourLoss, double? HigherNeighbourLoss, IReadOnlyDictionary<string, double> BestRatePerData);

    public List<object> Summary() => cells.OrderBy(c => c.Key.Data).ThenBy(c => c.Key.Optimizer).ThenBy(c => c.Key.Rate).Select(c => (object)new
    {
        data = c.Key.Data, optimizer = c.Key.Optimizer, rate = c.Key.Rate, seeds = c.Value.Count,
        accuracy = c.Value.Average(), accuracy_sd = BenchmarkContext.SampleSd(c.Value),
    }).ToList();

    public List<string[]> AccuracyTable()
    {
        var fineTuning = Datasets.Count(d => d != Scratch) > 1;
        string[] header = ["optimizer", "lr", .. Datasets, .. fineTuning ? new[] { PretrainedMean } : []];
        var rows = new List<string[]> { header };
        foreach (var optimizer in Optimizers)
        {
            var mean = FineTuningCurve(optimizer).ToDictionary(p => p.Rate, p => p.Accuracy);
            foreach (var rate in Datasets.SelectMany(d => RatesOf(d, optimizer)).Distinct().Order())
                rows.Add([optimizer, Rate(rate), .. Datasets.Select(d => Cell(d, optimizer, rate)),
                          .. fineTuning ? new[] { mean.TryGetValue(rate, out var m) ? Percent(m) : "" } : []]);
        }
        return rows;
    }

    public List<string[]> ChoiceTable()
    {
        var rows = new List<string[]> { new[] { "optimizer", "start", "best lr", "accuracy", "one step lower", "one step higher", "best lr per data set (per optimizer for a family)" } };
        foreach (var c in Best().Concat(BestPerFamily()))
            rows.Add([c.Optimizer, c.Start, Rate(c.Rate), Percent(c.Accuracy), Loss(c.LowerNeighbourLoss), Loss(c.HigherNeighbourLoss),
                      string.Join(", ", c.BestRatePerData.Select(kv => $"{kv.Key} {Rate(kv.Value)}"))]);
        return rows;
    }

    private string Cell(string data, string optimizer, double rate)
    {
        if (!cells.TryGetValue((data, optimizer, rate), out var values)) return "";
        var text = Percent(values.Average());
        return values.Count > 1 ? text + "±" + (BenchmarkContext.SampleSd(values) * 100).ToString("F1", CultureInfo.InvariantCulture) : text;
    }

    public static string Rate(double rate) => rate.ToString("0.#e0", CultureInfo.InvariantCulture);
    private static string Percent(double value) => (value * 100).ToString("F1", CultureInfo.InvariantCulture);
    private static string Loss(double? points) => points is { } p ? "−" + (p * 100).ToString("F1", CultureInfo.InvariantCulture) : "-";
}
