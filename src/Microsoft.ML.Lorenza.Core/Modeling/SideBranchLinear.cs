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
/// yields exactly ∇W at W + ΔW. A matrix no larger than the branch's own (rows, k) activation forms W + ΔW
/// instead (<see cref="FormsTheSum"/>): the same arithmetic, fewer operations. With <see cref="ComputeType"/> set (bfloat16 on CUDA) the matmuls run in that
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

    /// <summary>The low-rank change currently added to the weight (null: none). Optimizers set it through a <see cref="Perturbation"/> scope (LoRA: its adapters).</summary>
    public LowRankDelta? Delta { get; internal set; }

    /// <summary>The type the products are computed in (null: the weight's own type).</summary>
    public ScalarType? ComputeType { get; set; }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var type = ComputeType ?? _weight.dtype;
        Tensor In(Tensor t) => t.dtype == type ? t : t.to(type);
        var input = In(x);
        if (Delta is not { } d)
            return F.linear(input, In(_weight), _bias is null ? null : In(_bias)).MoveToOuterDisposeScope();
        var rows = input.reshape(-1, input.size(-1));
        if (FormsTheSum(d, rows.size(0), type))
        {
            // W + scale·Left·Right (m×n) and one linear: one small m×k×n product replaces the branch's two extra products
            // forward and two backward over all rows (the gradient reaches W through the sum unchanged).
            var perturbed = _weight.addmm(d.Left, d.Right!, 1, (float)d.Scale);
            return F.linear(input, perturbed, _bias).MoveToOuterDisposeScope();
        }
        // On rows: x·Wᵀ + b, then scale·(x·Rightᵀ)·Leftᵀ added in place by one addmm_ (no second (rows, m) tensor;
        // the linear's backward does not need its output).
        var y = F.linear(rows, In(_weight), _bias is null ? null : In(_bias));
        var thin = d.Right is null ? rows : matmul(rows, In(d.Right).mT);   // (rows, k), or x itself for a full-rank ΔW
        y.addmm_(thin, In(d.Left).mT, 1, (float)d.Scale);
        return y.view([.. input.shape[..^1], y.size(-1)]).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Whether a rank-k change is applied by forming W + ΔW rather than as the side branch: only in the weight's own
    /// type (a bfloat16 W + ΔW would round a small ΔW away) and only when the m×n sum is no larger than the (rows, k)
    /// product the branch keeps for backward, so it never costs memory. Small models' matrices meet it in training
    /// (tiny RoBERTa: 64×256 ≤ 2048 rows × 8), where the branch's extra small products cost more than the sum;
    /// roberta-base's never do (768×768 ≫ 1024 × 8), nor do probes on a fraction of the batch.
    /// </summary>
    internal bool FormsTheSum(LowRankDelta delta, long rows, ScalarType type) =>
        delta.Right is not null && type == _weight.dtype && OutFeatures * InFeatures <= rows * delta.Left.size(1);
}
