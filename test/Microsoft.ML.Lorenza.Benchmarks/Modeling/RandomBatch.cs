using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Torch;

namespace Microsoft.ML.Lorenza.Benchmarks.Modeling;

/// <summary>A seeded batch for timing a RoBERTa classifier: token ids past the special tokens, no padding, random labels.</summary>
internal sealed record RandomBatch(Tensor Ids, Tensor Mask, Tensor Labels)
{
    /// <summary>Draws the ids, then the labels, from <paramref name="generator"/>; the tensors belong to the current dispose scope.</summary>
    public static RandomBatch Create(RobertaConfig config, int batch, int seq, Generator generator)
    {
        var ids = (torch.rand([batch, seq], generator) * (config.VocabSize - 3)).to(ScalarType.Int64) + 3;
        var mask = torch.ones([batch, seq], ScalarType.Int64);
        var labels = (torch.rand([batch], generator) * config.NumLabels).to(ScalarType.Int64);
        return new RandomBatch(ids, mask, labels);
    }
}
