using Microsoft.ML.Lorenza.Configuration;
using Microsoft.ML.Lorenza.Datasets;

namespace Microsoft.ML.Lorenza.Training;

/// <summary>
/// Each training row's weight in the loss: its example weight times its class's weight (<see cref="ClassWeighting"/>).
/// The loss over a batch (or a probe's part of it) is the weighted mean Σ wᵢ·ℓᵢ / Σ wᵢ (<see cref="ClassifierLoss"/>),
/// as PyTorch's CrossEntropyLoss(weight=…) with reduction 'mean' does for class weights.
/// </summary>
public static class TrainingWeights
{
    /// <summary>
    /// Balanced class weights N / (K · n_c) for the class ids of the training rows: a class with n_c of the N rows, K the
    /// classes that have rows (a class without rows gets 0, never used). They average to 1 over the rows. Class frequency
    /// counts rows, whatever their example weights.
    /// </summary>
    public static double[] Balanced(IReadOnlyList<int> labels, int classCount)
    {
        var counts = new int[classCount];
        foreach (var label in labels) counts[label]++;
        var present = counts.Count(c => c > 0);
        return counts.Select(c => c == 0 ? 0 : (double)labels.Count / (present * c)).ToArray();
    }

    /// <summary>The class weights of <paramref name="weighting"/>: null for None (every class 1).</summary>
    public static double[]? ClassWeights(ClassWeighting weighting, IReadOnlyList<int> labels, int classCount) =>
        weighting == ClassWeighting.Balanced ? Balanced(labels, classCount) : null;

    /// <summary>
    /// The weight of each training row, or null when every row weighs 1 (the run then computes the plain mean, bit for bit
    /// as without weights). Refuses training rows whose weights are all 0 (the validation hold-out may take the others).
    /// </summary>
    internal static float[]? Of(DataSplit split, int classCount, ClassWeighting weighting)
    {
        var classWeights = ClassWeights(weighting, split.TrainLabels, classCount);
        if (classWeights is null && split.Train.All(e => e.Weight == 1)) return null;
        var weights = split.Train.Select((e, i) => (float)(e.Weight * (classWeights?[split.TrainLabels[i]] ?? 1))).ToArray();
        if (weights.All(w => w == 0))
            throw new InvalidDataException($"Every training row has weight 0 (after holding out {split.Validation.Count} validation rows), so training would learn nothing; give more rows a weight > 0.");
        return weights;
    }

    /// <summary>
    /// The one line a weighted run prints before training (null when unweighted): which weights, the loss they make, and
    /// that evaluation is unweighted. <paramref name="exampleWeights"/> names where the example weights come from (null: none).
    /// </summary>
    public static string? Describe(ClassWeighting weighting, string? exampleWeights)
    {
        var parts = new List<string>();
        if (weighting == ClassWeighting.Balanced) parts.Add("balanced class weights (inverse class frequency)");
        if (exampleWeights is not null) parts.Add($"example weights from {exampleWeights}");
        return parts.Count == 0 ? null
            : $"weighted training loss: {string.Join(" × ", parts)}, the mean Σ wᵢ·ℓᵢ / Σ wᵢ per batch; evaluation metrics are unweighted.";
    }
}
