using Microsoft.ML.Lorenza.Datasets;

namespace Microsoft.ML.Lorenza.Benchmarks.Training.NoisyLabels;

/// <summary>A training set with symmetric label noise: which rows were flipped, and the set with their labels changed.</summary>
public sealed record LabelNoise(TextDataset Noisy, IReadOnlyList<int> FlippedRows)
{
    /// <summary>
    /// Flips exactly round(<paramref name="rate"/>·N) rows, chosen by a seeded shuffle, each to another label drawn uniformly
    /// from the other classes (for two classes: the other one). Rate 0 returns the set unchanged.
    /// </summary>
    public static LabelNoise Apply(TextDataset clean, double rate, int seed)
    {
        if (rate is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(rate), rate, "--noise: each rate must be in [0, 1).");
        var examples = clean.Examples.ToList();
        var labels = examples.Select(e => e.Label).Distinct().Order(StringComparer.Ordinal).ToArray();
        var random = new Random(seed);
        var count = (int)Math.Round(rate * examples.Count);
        var flipped = Enumerable.Range(0, examples.Count).OrderBy(_ => random.Next()).Take(count).Order().ToList();
        foreach (var row in flipped)
        {
            var others = labels.Where(l => l != examples[row].Label).ToArray();
            examples[row] = examples[row] with { Label = others[random.Next(others.Length)] };
        }
        return new LabelNoise(TextDataset.FromExamples(examples, clean.Source + $" ({rate:P0} labels flipped, seed {seed})"), flipped);
    }
}
