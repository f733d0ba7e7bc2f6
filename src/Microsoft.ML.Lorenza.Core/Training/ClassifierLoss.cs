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

    /// <summary>
    /// The same, with token_type_ids [batch, sequence] (BERT sentence pairs; null: all 0) and per-row loss weights [batch]
    /// (null: the plain mean). With weights every loss — the training loss and each probe's on its rows — is the weighted
    /// mean Σ wᵢ·ℓᵢ / Σ wᵢ over the rows it uses (<see cref="WeightedMean"/>); micro-batches divide by the whole batch's Σ wᵢ,
    /// so their accumulated gradient is the whole batch's.
    /// </summary>
    public static LossClosure Closure(SequenceClassifier model, Tensor ids, Tensor mask, Tensor? tokenTypes, Tensor labels, int microBatches = 1, Tensor? weights = null) => (mode, fraction) =>
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
                var probeLabels = labels.narrow(0, 0, probeRows);
                using var evalOutput = model.forward(ids.narrow(0, 0, probeRows), mask.narrow(0, 0, probeRows), tokenTypes?.narrow(0, 0, probeRows), weights is null ? probeLabels : null);
                if (weights is null) return evalOutput.Loss!.item<float>();
                var probeWeights = weights.narrow(0, 0, probeRows);
                return WeightedSum(evalOutput.Logits, probeLabels, probeWeights, Total(probeWeights)).item<float>();
            }
            finally
            {
                model.ComputeType = computeType;
            }
        }
        model.train();
        var total = weights is null ? 0 : Total(weights);
        if (microBatches == 1 && weights is null)
        {
            using var output = model.forward(ids, mask, tokenTypes, labels);
            output.Loss!.backward();
            return output.Loss.item<float>();
        }
        if (microBatches == 1)
        {
            using var output = model.forward(ids, mask, tokenTypes);
            using var loss = WeightedSum(output.Logits, labels, weights!, total);
            loss.backward();
            return loss.item<float>();
        }
        double sum = 0;
        var rows = ids.size(0);
        var size = (rows + microBatches - 1) / microBatches;
        for (long first = 0; first < rows; first += size)
        {
            using var micro = torch.NewDisposeScope();
            var count = Math.Min(size, rows - first);
            var microLabels = labels.narrow(0, first, count);
            using var output = model.forward(ids.narrow(0, first, count), mask.narrow(0, first, count), tokenTypes?.narrow(0, first, count), weights is null ? microLabels : null);
            Tensor share;
            if (weights is null)
            {
                using var fractionOfRows = ((double)count / rows).ToScalar(); // explicit Scalar: docs/engine.md, "TorchSharp notes"
                share = output.Loss!.mul(fractionOfRows);
            }
            else share = WeightedSum(output.Logits, microLabels, weights.narrow(0, first, count), total);
            share.backward();
            sum += share.item<float>();
        }
        return sum;
    };

    /// <summary>
    /// The weighted mean cross-entropy Σ wᵢ·ℓᵢ / Σ wᵢ of logits [rows, classes] (in float32) against class ids [rows] with
    /// weights [rows]; 0 when every weight is 0. For class weights (wᵢ = w[yᵢ]) this is PyTorch's
    /// CrossEntropyLoss(weight=w, reduction='mean').
    /// </summary>
    public static Tensor WeightedMean(Tensor logits, Tensor labels, Tensor weights) => WeightedSum(logits, labels, weights, Total(weights));

    /// <summary>Σ wᵢ·ℓᵢ / <paramref name="total"/> (0 when the total is 0: rows that all weigh 0 carry no loss and no gradient).</summary>
    private static Tensor WeightedSum(Tensor logits, Tensor labels, Tensor weights, double total)
    {
        using var scope = torch.NewDisposeScope();
        using var perRow = nn.functional.cross_entropy(logits.to_type(ScalarType.Float32), labels, reduction: nn.Reduction.None);
        using var scale = (total > 0 ? 1 / total : 0).ToScalar();
        return perRow.mul(weights.to_type(ScalarType.Float32)).sum().mul(scale).MoveToOuterDisposeScope();
    }

    private static double Total(Tensor weights) => weights.sum(ScalarType.Float64).item<double>();

    /// <summary>⌈fraction · rows⌉, at least 1: the rows a probe on <paramref name="fraction"/> of the batch uses.</summary>
    public static long ProbeRows(long rows, double fraction)
    {
        if (!(fraction is > 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, $"batchFraction = {fraction} is invalid: it must be in (0, 1].");
        return Math.Clamp((long)Math.Ceiling(fraction * rows - 1e-9), 1, rows);
    }
}
