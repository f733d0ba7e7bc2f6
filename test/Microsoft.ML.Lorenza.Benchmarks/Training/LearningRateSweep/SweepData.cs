using Microsoft.ML.Lorenza.Benchmarks.Training.Comparison;
using Microsoft.ML.Lorenza.Datasets;

namespace Microsoft.ML.Lorenza.Benchmarks.Training.LearningRateSweep;

/// <summary>
/// One data set of the sweep: SST-2 and AG News from ../shared/data (the first rows, as the comparison), the two sample
/// apps' files (examples/*/Data, split 80 / 20 with a fixed shuffle, as the samples hold out a test set) and "scratch":
/// SST-2 again for a tiny RoBERTa trained from scratch.
/// </summary>
public sealed record SweepData(string Name, TextDataset Train, TextDataset Evaluation, bool FromScratch)
{
    public static readonly IReadOnlyList<string> Names = ["sst2", "ag-news", "sentiment-sample", "issues-sample", "scratch"];

    public static SweepData Load(string shared, string name, int trainRows, int evaluationRows) => name switch
    {
        "sst2" or "ag-news" => FromComparison(ComparisonData.Load(shared, name, trainRows, evaluationRows), fromScratch: false),
        "scratch" => FromComparison(ComparisonData.Load(shared, "sst2", trainRows, evaluationRows), fromScratch: true) with { Name = "scratch" },
        "sentiment-sample" => Sample(name, Path.Combine("examples", "SentimentAnalysis", "Data", "sentiment.tsv"), new ColumnSpec("sentence", "label")),
        "issues-sample" => Sample(name, Path.Combine("examples", "GitHubIssueArea", "Data", "issues.tsv"), new ColumnSpec("Title", "Area", "Description")),
        _ => throw new ArgumentException($"--data: unknown data set '{name}'; known: {string.Join(", ", Names)}."),
    };

    private static SweepData FromComparison(ComparisonData data, bool fromScratch) => new(data.Name, data.Train, data.Evaluation, fromScratch);

    /// <summary>A sample's whole file, shuffled once (seed 1) and split 80 / 20: the sweep sees the sample's amount of data.</summary>
    private static SweepData Sample(string name, string relativePath, ColumnSpec columns)
    {
        var all = TextDataset.Load(Path.Combine(BenchmarkContext.RepoRoot, relativePath), columns).Examples.ToList();
        var random = new Random(1);
        var order = Enumerable.Range(0, all.Count).OrderBy(_ => random.Next()).ToList();
        var trainCount = all.Count * 4 / 5;
        return new SweepData(name, TextDataset.FromExamples(order.Take(trainCount).Select(i => all[i]), relativePath),
            TextDataset.FromExamples(order.Skip(trainCount).Select(i => all[i]), relativePath), FromScratch: false);
    }
}
