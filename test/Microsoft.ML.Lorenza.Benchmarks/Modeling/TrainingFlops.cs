using Microsoft.ML.Lorenza.Modeling;

namespace Microsoft.ML.Lorenza.Benchmarks.Modeling;

/// <summary>
/// Floating-point operations of one RoBERTa classifier training step: forward 2·tokens·(matmul weights) plus
/// attention's two batched products (2·2·seq²·hidden per sequence and layer), backward twice the forward.
/// roberta-base, batch 8, seq 128: 0.54 TFLOP. Embedding lookups, LayerNorm, softmax and the update are not counted.
/// </summary>
internal static class TrainingFlops
{
    public static double PerStep(RobertaConfig c, int batch, int seq)
    {
        double tokens = batch * seq;
        double h = c.HiddenSize, ffn = c.IntermediateSize;
        var layerWeights = 4 * h * h + 2 * h * ffn;
        var headWeights = h * h + h * c.NumLabels;
        var forward = 2 * tokens * c.NumHiddenLayers * layerWeights
                      + 2 * batch * headWeights
                      + c.NumHiddenLayers * batch * 4.0 * seq * seq * h;
        return 3 * forward;
    }
}
