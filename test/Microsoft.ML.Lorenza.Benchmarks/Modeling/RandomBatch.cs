using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Benchmarks.Modeling;

/// <summary>A seeded batch for timing a RoBERTa classifier: token ids past the special tokens, no padding, random labels.</summary>
internal sealed record RandomBatch(Tensor Ids, Tensor Mask, Tensor Labels)
{
    /// <summary>Draws the ids, then the labels, from <paramref name="generator"/>; the tensors belong to the current dispose scope.</summary>
    public static RandomBatch Create(RobertaConfig config, int batch, int seq, Generator generator)
    {
        var ids = torch.randint(3, config.VocabSize, [batch, seq], ScalarType.Int64, generator: generator);
        var mask = torch.ones([batch, seq], ScalarType.Int64);
        var labels = torch.randint(0, config.NumLabels, [batch], ScalarType.Int64, generator: generator);
        return new RandomBatch(ids, mask, labels);
    }
}
