using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Lorenza.Modeling;

/// <summary>
/// A change ΔW = scale · Left · Right of an m×n weight (Left m×k, Right k×n), applied by
/// <see cref="SideBranchLinear"/> as a side branch so W itself is never written. LORENZA's probes and SAM
/// perturbations are of this form: a left basis P gives Left = P, Right = Z; a right basis gives
/// Left = Z, Right = Pᵀ. With Right = null the change is full rank: ΔW = scale · Left (Left m×n).
/// </summary>
public sealed record LowRankDelta(Tensor Left, Tensor? Right, double Scale);

/// <summary>
/// y = x·Wᵀ + b, as torch.nn.Linear (weight m×n = out×in, parameter names "weight" and "bias"), plus a
/// low-rank side branch: with <see cref="Delta"/> set it computes y = x·(W + ΔW)ᵀ + b as
/// x·Wᵀ + b + scale·(x·Rightᵀ)·Leftᵀ — no m×n temporary, no rounding drift in W, and backprop through it
/// yields exactly ∇W at W + ΔW. With <see cref="ComputeType"/> set (bfloat16 on CUDA) the matmuls run in that
/// type on casts of the float32 weights, whose gradients arrive in float32 (what CUDA autocast does).
/// </summary>
public sealed class SideBranchLinear : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = nameof(weight))] private Parameter _weight;
    [ComponentName(Name = nameof(bias))] private Parameter? _bias;

    public SideBranchLinear(long inFeatures, long outFeatures, bool hasBias = true) : base(nameof(SideBranchLinear))
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        _weight = null!;
        weight = new Parameter(empty(outFeatures, inFeatures));
        if (hasBias) bias = new Parameter(zeros(outFeatures));
    }

    public long InFeatures { get; }
    public long OutFeatures { get; }

    // Settable (TorchSharp's Module.to replaces parameters through these), registered under HF names.
    public Parameter weight
    {
        get => _weight;
        set
        {
            if (ReferenceEquals(value, _weight)) return;
            _weight?.Dispose();
            _weight = (Parameter)value.DetachFromDisposeScope();
            ConditionallyRegisterParameter(nameof(weight), _weight);
        }
    }

    public Parameter? bias
    {
        get => _bias;
        set
        {
            if (ReferenceEquals(value, _bias)) return;
            _bias?.Dispose();
            _bias = (Parameter?)value?.DetachFromDisposeScope();
            ConditionallyRegisterParameter(nameof(bias), _bias);
        }
    }

    /// <summary>The low-rank change currently added to the weight (null: none). Set by optimizers.</summary>
    public LowRankDelta? Delta { get; set; }

    /// <summary>The type the products are computed in (null: the weight's own type).</summary>
    public ScalarType? ComputeType { get; set; }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var type = ComputeType ?? _weight.dtype;
        Tensor In(Tensor t) => t.dtype == type ? t : t.to(type);
        var input = In(x);
        var y = F.linear(input, In(_weight), _bias is null ? null : In(_bias));
        if (Delta is { } d)
        {
            // On rows (a view): y + scale·(x·Rightᵀ)·Leftᵀ as one addmm, the product and the sum fused (fewer ops per step:
            // on a small model the side branch's op count, not its arithmetic, is what costs).
            var rows = input.reshape(-1, input.size(-1));
            var thin = d.Right is null ? rows : matmul(rows, In(d.Right).mT);   // (rows, k), or x itself for a full-rank ΔW
            y = y.reshape(-1, y.size(-1)).addmm(thin, In(d.Left).mT, 1, (float)d.Scale).view(y.shape);
        }
        return y.MoveToOuterDisposeScope();
    }
}
