namespace Microsoft.ML.Lorenza.Training;

/// <summary>Per-class precision, recall, F1 and support.</summary>
public sealed record ClassMetrics(string Label, double Precision, double Recall, double F1, int Support);

/// <summary>
/// Accuracy, macro-F1, per-class metrics, log-loss (probabilities clipped to [1e-15, 1 − 1e-15] as
/// scikit-learn does) and the confusion matrix (rows = true class, columns = predicted).
/// </summary>
public sealed record ClassificationMetrics(double Accuracy, double MacroF1, double LogLoss, IReadOnlyList<ClassMetrics> PerClass, int[][] ConfusionMatrix)
{
    public static ClassificationMetrics Compute(IReadOnlyList<int> truth, IReadOnlyList<float[]> probabilities, IReadOnlyList<string> labels)
    {
        if (truth.Count != probabilities.Count) throw new ArgumentException($"{truth.Count} labels but {probabilities.Count} predictions.");
        if (truth.Count == 0) throw new ArgumentException("No examples to evaluate.");
        var k = labels.Count;
        var confusion = Enumerable.Range(0, k).Select(_ => new int[k]).ToArray();
        double logLoss = 0;
        for (var i = 0; i < truth.Count; i++)
        {
            var p = probabilities[i];
            var predicted = Array.IndexOf(p, p.Max());
            confusion[truth[i]][predicted]++;
            logLoss -= Math.Log(Math.Clamp(p[truth[i]], 1e-15, 1 - 1e-15));
        }
        var perClass = new List<ClassMetrics>();
        for (var c = 0; c < k; c++)
        {
            var tp = confusion[c][c];
            var predictedC = confusion.Sum(row => row[c]);
            var actualC = confusion[c].Sum();
            var precision = predictedC == 0 ? 0 : (double)tp / predictedC;
            var recall = actualC == 0 ? 0 : (double)tp / actualC;
            var f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            perClass.Add(new ClassMetrics(labels[c], precision, recall, f1, actualC));
        }
        var accuracy = (double)Enumerable.Range(0, k).Sum(c => confusion[c][c]) / truth.Count;
        return new ClassificationMetrics(accuracy, perClass.Average(c => c.F1), logLoss / truth.Count, perClass, confusion);
    }

    public string Format()
    {
        var lines = new List<string>
        {
            $"accuracy {Accuracy:P2}   macro-F1 {MacroF1:F4}   log-loss {LogLoss:F4}",
            $"{"label",-20} {"precision",9} {"recall",9} {"F1",9} {"support",8}",
        };
        lines.AddRange(PerClass.Select(c => $"{c.Label,-20} {c.Precision,9:F4} {c.Recall,9:F4} {c.F1,9:F4} {c.Support,8}"));
        lines.Add("confusion (rows: true, columns: predicted):");
        lines.AddRange(ConfusionMatrix.Select((row, i) => $"{PerClass[i].Label,-20} {string.Join(" ", row.Select(v => $"{v,6}"))}"));
        return string.Join(Environment.NewLine, lines);
    }
}
