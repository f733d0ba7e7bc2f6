using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Training;

/// <summary>The optimizers' loss closure for one batch of a classifier (RoBERTa or BERT).</summary>
public static class ClassifierLoss
{
    /// <summary>
    /// Eval: the mean cross-entropy in eval mode without autograd, in float32 whatever the model's compute type
    /// (for zeroth-order probes: a bfloat16 forward keeps 8 significant bits and would round away a probe of
    /// size μ = 1e-3, so L(θ + μU) − L(θ − μU) must come from float32 losses), on the first ⌈fraction · rows⌉ rows when
    /// the optimizer asks for a part of the batch (<see cref="OptimizerOptions.ProbeBatchFraction"/>). Train: forward and backward in
    /// train mode over <paramref name="microBatches"/> slices of the batch, each loss weighted by its share, so
    /// the accumulated gradient is the whole batch's.
    /// </summary>
    public static LossClosure Closure(SequenceClassifier model, Tensor ids, Tensor mask, Tensor labels, int microBatches = 1) =>
        Closure(model, ids, mask, null, labels, microBatches);

    /// <summary>The same, with token_type_ids [batch, sequence] (BERT sentence pairs; null: all 0).</summary>
    public static LossClosure Closure(SequenceClassifier model, Tensor ids, Tensor mask, Tensor? tokenTypes, Tensor labels, int microBatches = 1) => (mode, fraction) =>
    {
        if (mode == LossMode.Eval)
        {
            model.eval();
            var computeType = model.ComputeType;
            model.ComputeType = null;
            try
            {
                using var scope = torch.NewDisposeScope();
                using var noGrad = torch.no_grad();
                var probeRows = ProbeRows(ids.size(0), fraction);
                using var evalOutput = model.forward(ids.narrow(0, 0, probeRows), mask.narrow(0, 0, probeRows), tokenTypes?.narrow(0, 0, probeRows), labels.narrow(0, 0, probeRows));
                return evalOutput.Loss!.item<float>();
            }
            finally
            {
                model.ComputeType = computeType;
            }
        }
        model.train();
        if (microBatches == 1)
        {
            using var output = model.forward(ids, mask, tokenTypes, labels);
            output.Loss!.backward();
            return output.Loss.item<float>();
        }
        double total = 0;
        var rows = ids.size(0);
        var size = (rows + microBatches - 1) / microBatches;
        for (long first = 0; first < rows; first += size)
        {
            using var micro = torch.NewDisposeScope();
            var count = Math.Min(size, rows - first);
            using var output = model.forward(ids.narrow(0, first, count), mask.narrow(0, first, count), tokenTypes?.narrow(0, first, count), labels.narrow(0, first, count));
            using var share = ((double)count / rows).ToScalar(); // explicit Scalar: README, "TorchSharp notes"
            var weighted = output.Loss!.mul(share);
            weighted.backward();
            total += weighted.item<float>();
        }
        return total;
    };

    /// <summary>⌈fraction · rows⌉, at least 1: the rows a probe on <paramref name="fraction"/> of the batch uses.</summary>
    public static long ProbeRows(long rows, double fraction)
    {
        if (!(fraction is > 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, $"batchFraction = {fraction} is invalid: it must be in (0, 1].");
        return Math.Clamp((long)Math.Ceiling(fraction * rows - 1e-9), 1, rows);
    }
}
