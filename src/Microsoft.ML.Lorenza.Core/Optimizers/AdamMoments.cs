using TorchSharp;
using static TorchSharp.torch;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Optimizers;

/// <summary>
/// Adam's moments M and V of one parameter (of its projection R, for a low-rank one) and the two updates they drive:
/// torch.optim.AdamW's own for a full-rank parameter, and the normalized step a projector back-projects.
/// </summary>
internal sealed class AdamMoments
{
    /// <summary>
    /// Elements per slice of <see cref="StepFullRank"/> on the CPU (1 MB per array). Measured on roberta-base's update, 2
    /// cores: whole tensors 0.72-0.91 s, slices of 64 K elements 0.41-0.51 s, 256 K 0.27-0.33 s, 1 M 0.26-0.28 s. On a
    /// GPU each slice costs eight kernel launches (54 ms of a 96 ms roberta-base step on an H200), so tensors go whole.
    /// </summary>
    internal const long FullRankSlice = 256 * 1024;

    public Tensor? M { get; private set; }
    public Tensor? V { get; private set; }
    public long Elements => (M?.numel() ?? 0) + (V?.numel() ?? 0);

    /// <summary>Zero moments shaped like <paramref name="r"/>, unless they already are.</summary>
    public void EnsureShapeOf(Tensor r)
    {
        if (M is not null && M.shape.SequenceEqual(r.shape)) return;
        Replace(torch.zeros_like(r).DetachFromDisposeScope(), torch.zeros_like(r).DetachFromDisposeScope());
    }

    public void Reset()
    {
        M?.zero_();
        V?.zero_();
    }

    public void Replace(Tensor? m, Tensor? v)
    {
        M?.Dispose();
        V?.Dispose();
        (M, V) = (m, v);
    }

    /// <summary>M ← β₁M + (1 − β₁)R, V ← β₂V + (1 − β₂)R², and N = M / (√V / √(1 − β₂ᵗ) + ε); 1/(1 − β₁ᵗ) is in the step size.</summary>
    public Tensor Normalized(Tensor r, AdamScalars k) => Normalized(M!, V!, r, k);

    /// <summary>The same on moments <paramref name="m"/> and <paramref name="v"/> (stacked ones too: <see cref="BatchedLowRankGroup"/>).</summary>
    internal static Tensor Normalized(Tensor m, Tensor v, Tensor r, AdamScalars k)
    {
        m.mul_(k.Beta1).add_(r, k.OneMinusBeta1);
        v.mul_(k.Beta2).addcmul_(r, r, k.OneMinusBeta2);
        var denom = v.sqrt().div_(k.BiasCorrection2Sqrt).add_(k.Epsilon);
        return m / denom;
    }

    /// <summary>
    /// torch.optim.AdamW's update of a full-rank parameter (decoupled decay, moments, bias-corrected step), slice by
    /// slice: the eight element-wise passes then find each slice in cache instead of streaming the whole tensor
    /// through memory eight times, and the temporary is small enough for malloc to reuse (no page faults per step).
    /// </summary>
    public void StepFullRank(Tensor w, Tensor g, AdamScalars k, bool decay)
    {
        using var flat = NewDisposeScope();
        var (wf, gf, mf, vf) = (w.view(-1), g.contiguous().view(-1), M!.view(-1), V!.view(-1));
        var n = wf.size(0);
        var sliceLength = w.device_type == DeviceType.CPU ? FullRankSlice : Math.Max(n, 1);
        for (long start = 0; start < n; start += sliceLength)
        {
            using var slice = NewDisposeScope();
            var length = Math.Min(sliceLength, n - start);
            var (ws, gs, ms, vs) = (wf.narrow(0, start, length), gf.narrow(0, start, length), mf.narrow(0, start, length), vf.narrow(0, start, length));
            if (decay) ws.mul_(k.Decay);
            ms.mul_(k.Beta1).add_(gs, k.OneMinusBeta1);
            vs.mul_(k.Beta2).addcmul_(gs, gs, k.OneMinusBeta2);
            var denom = vs.sqrt().div_(k.BiasCorrection2Sqrt).add_(k.Epsilon);
            ws.addcdiv_(ms, denom, k.StepSize);
        }
    }
}

/// <summary>The numbers of Adam's <paramref name="step"/>-th update (1-based) at rate <paramref name="lr"/> as Scalars, made once per step.</summary>
internal sealed class AdamScalars(OptimizerOptions o, double lr, int step) : IDisposable
{
    public Scalar Decay { get; } = (1 - lr * o.WeightDecay).ToScalar();
    public Scalar Beta1 { get; } = o.Beta1.ToScalar();
    public Scalar OneMinusBeta1 { get; } = (1 - o.Beta1).ToScalar();
    public Scalar Beta2 { get; } = o.Beta2.ToScalar();
    public Scalar OneMinusBeta2 { get; } = (1 - o.Beta2).ToScalar();
    public Scalar BiasCorrection2Sqrt { get; } = Math.Sqrt(1 - Math.Pow(o.Beta2, step)).ToScalar();
    public Scalar Epsilon { get; } = o.Epsilon.ToScalar();
    /// <summary>−γ / (1 − β₁ᵗ) for a full-rank step; −γ·α / (1 − β₁ᵗ) for a back-projected one.</summary>
    public Scalar StepSize { get; } = (-lr / (1 - Math.Pow(o.Beta1, step))).ToScalar();
    public Scalar LowRankStepSize { get; } = (-lr * o.Scale / (1 - Math.Pow(o.Beta1, step))).ToScalar();
    /// <summary><see cref="Decay"/> and <see cref="LowRankStepSize"/> as the floats addmm_ takes (the kernels use them as floats anyway).</summary>
    public float DecayFactor { get; } = (float)(1 - lr * o.WeightDecay);
    public float LowRankStep { get; } = (float)(-lr * o.Scale / (1 - Math.Pow(o.Beta1, step)));

    public void Dispose()
    {
        foreach (var s in new[] { Decay, Beta1, OneMinusBeta1, Beta2, OneMinusBeta2, BiasCorrection2Sqrt, Epsilon, StepSize, LowRankStepSize }) s.Dispose();
    }
}
