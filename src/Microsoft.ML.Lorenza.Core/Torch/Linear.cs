namespace Microsoft.ML.Lorenza.Torch;

/// <summary>
/// A change ΔW = scale · Left · Right of an m×n weight (Left m×k, Right k×n), applied by
/// <see cref="Linear"/> as a side branch so W itself is never written. LORENZA's probes and SAM
/// perturbations are of this form: a left basis P gives Left = P, Right = Z; a right basis gives
/// Left = Z, Right = Pᵀ. With Right = null the change is full rank: ΔW = scale · Left (Left m×n).
/// </summary>
public sealed record LowRankDelta(Tensor Left, Tensor? Right, double Scale);

/// <summary>
/// y = x·Wᵀ + b, as torch.nn.Linear (weight m×n = out×in, HF parameter names "weight" and "bias").
/// When <see cref="Delta"/> is set the layer computes y = x·(W + ΔW)ᵀ + b as
/// x·Wᵀ + b + scale·(x·Rightᵀ)·Leftᵀ: no m×n temporary, no rounding drift in W, and backprop through
/// it yields exactly ∇W at W + ΔW.
/// </summary>
public sealed class Linear : Module
{
    public Linear(long inFeatures, long outFeatures, bool hasBias = true, Device? device = null)
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        weight = register_parameter("weight", torch.empty([outFeatures, inFeatures], device: device));
        bias = hasBias ? register_parameter("bias", torch.zeros([outFeatures], device: device)) : null;
    }

    public long InFeatures { get; }
    public long OutFeatures { get; }
    public Tensor weight { get; }
    public Tensor? bias { get; }

    /// <summary>The low-rank change currently added to the weight (null: none). Set by optimizers.</summary>
    public LowRankDelta? Delta { get; set; }

    public Tensor forward(Tensor x)
    {
        var y = torch.nn.functional.linear(x, weight, bias);
        if (Delta is not { } d) return y;
        if (d.Right is null)
        {
            using var full = torch.matmul(x, d.Left.mT);           // x·ΔWᵀ/scale: (..., m)
            using (y) return y.add(full, d.Scale);
        }
        using var projected = torch.matmul(x, d.Right.mT);   // x·Rightᵀ: (..., k)
        using var branch = torch.matmul(projected, d.Left.mT); // (..., m)
        using (y) return y.add(branch, d.Scale);
    }
}
