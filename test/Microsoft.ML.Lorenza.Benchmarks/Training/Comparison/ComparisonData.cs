using Microsoft.ML.Lorenza.Training;
using Microsoft.ML.Lorenza.Datasets;

namespace Microsoft.ML.Lorenza.Benchmarks.Training.Comparison;

/// <summary>
/// One data set of the comparison: a training subset and an evaluation set, both fixed (the first rows of each
/// file, so every method and the classical baseline see the same examples). <see cref="PositiveLabel"/>: the class
/// whose F1 is reported (MRPC's paraphrase class "1"), null when only accuracy and macro-F1 matter.
/// </summary>
public sealed record ComparisonData(string Name, TextDataset Train, TextDataset Evaluation, string? PositiveLabel)
{
    public static readonly IReadOnlyList<string> Names = ["sst2", "ag-news", "mrpc", "rte"];

    /// <summary>Loads <paramref name="name"/> from ../shared/data: <paramref name="trainSize"/> training rows, up to <paramref name="evaluationSize"/> evaluation rows.</summary>
    public static ComparisonData Load(string shared, string name, int trainSize, int evaluationSize)
    {
        string File(string dataset, string file) => Path.Combine(shared, "data", dataset, file);
        var (train, evaluation, positive) = name switch
        {
            "sst2" => (TextDataset.Load(File("sst2", "train.tsv"), new("sentence", "label")),
                       TextDataset.Load(File("sst2", "dev.tsv"), new("sentence", "label")), (string?)null),
            "ag-news" => (TextDataset.Load(File("ag-news", "train_subset.tsv"), new("text", "label")),
                          TextDataset.Load(File("ag-news", "test.tsv"), new("text", "label")), null),
            // GLUE's dev splits are the evaluation sets (GLUE's test labels are hidden).
            "mrpc" => (TextDataset.Load(File("mrpc", "train.tsv"), new("#1 String", "Quality", "#2 String")),
                       TextDataset.Load(File("mrpc", "dev.tsv"), new("#1 String", "Quality", "#2 String")), "1"),
            "rte" => (TextDataset.Load(File("rte", "train.tsv"), new("sentence1", "label", "sentence2")),
                      TextDataset.Load(File("rte", "dev.tsv"), new("sentence1", "label", "sentence2")), null),
            _ => throw new ArgumentException($"--data: unknown data set '{name}'; known: {string.Join(", ", Names)}."),
        };
        return new ComparisonData(name, Subset(train, trainSize), Subset(evaluation, evaluationSize), positive);
    }

    private static TextDataset Subset(TextDataset data, int count) => TextDataset.FromExamples(data.Examples.Take(count), data.Source);
}
