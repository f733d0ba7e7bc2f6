using Microsoft.ML.Lorenza.Datasets;
using Microsoft.ML.Lorenza.Inference;
using Microsoft.ML.Lorenza.Text;

namespace Microsoft.ML.Lorenza.Training;

/// <summary>The rows a run trains and validates on, with their class ids.</summary>
internal sealed record DataSplit(List<TextExample> Train, int[] TrainLabels, List<TextExample> Validation, int[] ValidationLabels)
{
    /// <summary>
    /// The given validation set, or without one a seeded share (<paramref name="validationFraction"/>) of the training rows
    /// held out.
    /// </summary>
    public static DataSplit Of(TextDataset train, TextDataset? validation, LabelMap labels, double validationFraction, ulong seed)
    {
        var ids = labels.IdsOf(train);
        if (validation is not null) return new([.. train.Examples], ids, [.. validation.Examples], labels.IdsOf(validation));
        var order = Enumerable.Range(0, ids.Length).ToArray();
        new Random(unchecked((int)seed)).Shuffle(order);
        var held = (int)Math.Round(ids.Length * validationFraction);
        var validationIdx = order.Take(held).ToArray();
        var trainIdx = order.Skip(held).ToArray();
        return new(trainIdx.Select(i => train.Examples[i]).ToList(), trainIdx.Select(i => ids[i]).ToArray(),
                   validationIdx.Select(i => train.Examples[i]).ToList(), validationIdx.Select(i => ids[i]).ToArray());
    }
}

/// <summary>The training rows encoded once, their loss weights, and the batches of every epoch.</summary>
internal sealed class DataPlan(DataSplit split, EncodedText[] encoded, int batchSize, ulong seed, float[]? weights = null)
{
    public DataSplit Split => split;

    /// <summary>Each training row's weight in the loss (<see cref="TrainingWeights"/>), or null: every row weighs 1.</summary>
    public float[]? Weights => weights;

    /// <summary>The training rows as token ids, in <see cref="DataSplit.Train"/>'s order (batches index them).</summary>
    public EncodedText[] Encoded => encoded;

    public int BatchesPerEpoch => (encoded.Length + batchSize - 1) / batchSize;

    public static DataPlan Encode(DataSplit split, TextClassifier classifier, int batchSize, ulong seed, float[]? weights = null) =>
        new(split, split.Train.Select(e => classifier.Tokenizer.EncodeSequence(e.Text, e.TextPair, classifier.MaxSequenceLength)).ToArray(), batchSize, seed, weights);

    /// <summary>The batches of <paramref name="epoch"/> (1-based), as row indices.</summary>
    public List<int[]> Batches(int epoch) => BatchPlan(encoded.Select(e => e.Length).ToArray(), batchSize, seed, epoch);

    /// <summary>
    /// Length bucketing: shuffle (seeded by seed and epoch), sort chunks of 50 batches by token length so
    /// each batch pads little, then shuffle the batch order. A pure function of its arguments, so a
    /// resumed run can recompute the data order.
    /// </summary>
    public static List<int[]> BatchPlan(int[] lengths, int batchSize, ulong seed, int epoch)
    {
        var random = new Random(unchecked((int)(seed * 1_000_003 + (ulong)epoch)));
        var order = Enumerable.Range(0, lengths.Length).ToArray();
        random.Shuffle(order);
        var batches = new List<int[]>();
        foreach (var chunk in order.Chunk(batchSize * 50))
            batches.AddRange(chunk.OrderBy(i => lengths[i]).ThenBy(i => i).Chunk(batchSize));
        var shuffled = batches.ToArray();
        random.Shuffle(shuffled);
        return [.. shuffled];
    }
}
