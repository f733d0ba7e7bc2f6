using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Optimizers;

/// <summary>
/// The full-rank parameters' AdamW update as one pass over flat buffers, for GPUs (what torch.optim.AdamW's foreach and
/// fused forms do). Parameter by parameter, roberta-base's ~200 full-rank tensors cost eight kernel launches each; here
/// the moments live in two flat buffers (each parameter's <see cref="AdamMoments"/> holds views of them, so checkpoints
/// and the per-parameter path see the same numbers), the gradients and weights are gathered with one concatenation each,
/// and the weights are written back: n + 9 launches instead of 8n. The arithmetic per element is
/// <see cref="AdamMoments.StepFullRank"/>'s.
/// </summary>
internal sealed class FlatAdamGroup : IDisposable
{
    private readonly IReadOnlyList<(Tensor Weight, AdamMoments Moments)> members;
    private Tensor? m, v;
    private Tensor[] mViews = [], vViews = [];

    public FlatAdamGroup(IReadOnlyList<(Tensor Weight, AdamMoments Moments)> members) => this.members = members;

    /// <summary>Whether the group takes the update on <paramref name="device"/>: on GPUs, for two or more parameters.</summary>
    public bool AppliesTo(Device device) => members.Count > 1 && (device.type != DeviceType.CPU || ForceOnCpu);

    /// <summary>For tests: the flat update on the CPU too (where the sliced per-parameter one is faster).</summary>
    internal static bool ForceOnCpu { get; set; }

    /// <summary>Flat updates taken in this process (tests check that the path they compare ran).</summary>
    internal static int StepsTaken;

    /// <summary>One AdamW step of every member; false (nothing done) when a member has no gradient this step.</summary>
    public bool TryStep(AdamScalars k, bool decay)
    {
        if (members.Any(x => x.Weight.grad is null)) return false;
        EnsureFlatMoments();
        using var scope = NewDisposeScope();
        var g = torch.cat(members.Select(x => x.Weight.grad!.reshape(-1)).ToArray());
        var w = torch.cat(members.Select(x => x.Weight.reshape(-1)).ToArray());
        if (decay) w.mul_(k.Decay);
        m!.mul_(k.Beta1).add_(g, k.OneMinusBeta1);
        v!.mul_(k.Beta2).addcmul_(g, g, k.OneMinusBeta2);
        var denom = v.sqrt().div_(k.BiasCorrection2Sqrt).add_(k.Epsilon);
        w.addcdiv_(m, denom, k.StepSize);
        long offset = 0;
        foreach (var (weight, _) in members)
        {
            var n = weight.numel();
            weight.view(-1).copy_(w.narrow(0, offset, n));
            offset += n;
        }
        Interlocked.Increment(ref StepsTaken);
        return true;
    }

    /// <summary>Flat moments whose views the members hold; rebuilt from the members' own when one was replaced (a checkpoint loaded).</summary>
    private void EnsureFlatMoments()
    {
        if (m is not null && members.Select((x, i) => ReferenceEquals(x.Moments.M, mViews[i]) && ReferenceEquals(x.Moments.V, vViews[i])).All(b => b)) return;
        using (var scope = NewDisposeScope())
        {
            Tensor Flat(Func<AdamMoments, Tensor?> moment) =>
                torch.cat(members.Select(x => (moment(x.Moments) ?? torch.zeros_like(x.Weight)).reshape(-1)).ToArray()).DetachFromDisposeScope();
            var (newM, newV) = (Flat(x => x.M), Flat(x => x.V));
            (m, v) = (Swap(m, newM), Swap(v, newV));
        }
        (mViews, vViews) = (new Tensor[members.Count], new Tensor[members.Count]);
        long offset = 0;
        for (var i = 0; i < members.Count; i++)
        {
            var (weight, moments) = members[i];
            var n = weight.numel();
            using (var scope = NewDisposeScope())
                (mViews[i], vViews[i]) = (m.narrow(0, offset, n).view(weight.shape).DetachFromDisposeScope(), v!.narrow(0, offset, n).view(weight.shape).DetachFromDisposeScope());
            moments.Replace(mViews[i], vViews[i]);
            offset += n;
        }
    }

    private static Tensor Swap(Tensor? old, Tensor replacement)
    {
        old?.Dispose();
        return replacement;
    }

    public void Dispose()
    {
        m?.Dispose();
        v?.Dispose();
        (m, v) = (null, null);
    }
}
