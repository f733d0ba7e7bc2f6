using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Optimizers;

/// <summary>
/// The low-rank update of same-shape matrices taken together, for GPUs, where GaLore's and LORENZA's step is launch-bound
/// (docs/gpu.md): matrix by matrix it costs 14 kernel launches each (16 with an ascent), and roberta-base has 73 such
/// matrices in three shapes. Here the gradients are stacked and projected with one batched product against the stacked
/// bases, the norms and the ascent's dot products are batched reductions, and Adam's moments live in two stacked
/// [k, …] buffers whose per-matrix views each member's <see cref="AdamMoments"/> holds (as in <see cref="FlatAdamGroup"/>:
/// checkpoints, <see cref="AdamMoments.Reset"/> and the per-matrix path see the same numbers). The decay and the
/// back-projection go into each weight as one addmm_ (a batched back-projection would need the weights stacked and
/// copied back: more launches and two [k, m, n] temporaries). 12 + k launches for k matrices (15 + k with an ascent)
/// instead of 14k (16k). The arithmetic is the per-matrix path's; the products and reductions may sum in another order.
/// </summary>
internal sealed class BatchedLowRankGroup : IDisposable
{
    /// <summary>A low-rank matrix: its index among the optimizer's parameters (as in the ascent direction's list).</summary>
    internal sealed record Member(int Index, Tensor Weight, SubspaceProjector Projector, AdamMoments Moments);

    /// <summary>What the update measured, one entry per member: ‖R‖ and ‖G‖ in float32, ĝ·R in float64 (null without an ascent).</summary>
    internal sealed record Readings(Tensor ProjectedNorms, Tensor GradientNorms, Tensor? Dots);

    private readonly IReadOnlyList<Member> members;
    private Tensor? basis, m, v;
    private Tensor?[] basisSources = [];
    private Tensor[] mViews = [], vViews = [];

    private BatchedLowRankGroup(IReadOnlyList<Member> members) => this.members = members;

    public IReadOnlyList<Member> Members => members;

    /// <summary>
    /// The groups of two or more matrices of the same shape (which fixes the projector's side, and with the options' rank
    /// the rank used; <see cref="TryStep"/> checks the bases agree).
    /// </summary>
    public static IReadOnlyList<BatchedLowRankGroup> Partition(IEnumerable<Member> lowRank) =>
        lowRank.GroupBy(x => (Rows: x.Weight.size(0), Columns: x.Weight.size(1), x.Projector.RightSide))
            .Where(g => g.Count() > 1)
            .Select(g => new BatchedLowRankGroup(g.ToList()))
            .ToList();

    /// <summary>Whether the groups take the update on <paramref name="device"/>: on GPUs.</summary>
    public static bool AppliesTo(Device device) => !OffOnGpu && (device.type != DeviceType.CPU || ForceOnCpu);

    /// <summary>For tests: the batched update on the CPU too (where the per-matrix one stays, bit for bit as it was).</summary>
    internal static bool ForceOnCpu { get; set; }

    /// <summary>For benchmarks: the per-matrix update on GPUs too (device-speed's "per-matrix" rows, the before of an after).</summary>
    internal static bool OffOnGpu { get; set; }

    /// <summary>Group updates taken in this process (tests check that the path they compare ran).</summary>
    internal static int StepsTaken;

    /// <summary>
    /// One low-rank Adam step of every member, with ĝ·R when <paramref name="direction"/> (indexed like the optimizer's
    /// parameters) is given; null, with nothing done, when a member has no gradient or no basis this step, the bases'
    /// ranks differ, or only some members have a direction: the per-matrix path then takes them.
    /// </summary>
    public Readings? TryStep(AdamScalars k, bool decay, IReadOnlyList<Tensor?>? direction)
    {
        if (members.Any(x => x.Weight.grad is null || x.Projector.Basis is null)) return null;
        var rank = members[0].Projector.Basis!.size(1);
        if (members.Any(x => x.Projector.Basis!.size(1) != rank)) return null;
        var directions = direction is null ? [] : members.Select(x => direction[x.Index]).OfType<Tensor>().ToList();
        if (directions.Count != 0 && directions.Count != members.Count) return null;
        EnsureStackedBasis();
        using var scope = NewDisposeScope();
        var rightSide = members[0].Projector.RightSide;
        var g = torch.stack(members.Select(x => x.Weight.grad!));
        var r = rightSide ? torch.matmul(g, basis!) : torch.matmul(basis!.transpose(1, 2), g);
        var gradientNorms = torch.linalg.vector_norm(g, 2, [1, 2]);
        var projectedNorms = torch.linalg.vector_norm(r, 2, [1, 2]);
        // Before the moments are touched: a momentum ascent's direction is M itself.
        var dots = directions.Count == 0 ? null : (torch.stack(directions) * r).sum([1, 2], false, ScalarType.Float64);
        EnsureStackedMoments(r);
        var normalized = AdamMoments.Normalized(m!, v!, r, k);
        var beta = decay ? k.DecayFactor : 1f;
        for (var i = 0; i < members.Count; i++)
        {
            var (w, p, n) = (members[i].Weight, members[i].Projector.Basis!, normalized.select(0, i));
            if (rightSide) w.addmm_(n, p.t(), beta, k.LowRankStep);
            else w.addmm_(p, n, beta, k.LowRankStep);
        }
        Interlocked.Increment(ref StepsTaken);
        return new Readings(projectedNorms.MoveToOuterDisposeScope(), gradientNorms.MoveToOuterDisposeScope(), dots?.MoveToOuterDisposeScope());
    }

    /// <summary>The bases stacked [k, rows, r]; stacked again when a projector's basis was replaced (a refresh, a checkpoint).</summary>
    private void EnsureStackedBasis()
    {
        if (basis is not null && members.Select((x, i) => ReferenceEquals(x.Projector.Basis, basisSources[i])).All(same => same)) return;
        using (var scope = NewDisposeScope())
            basis = Swap(basis, torch.stack(members.Select(x => x.Projector.Basis!)).DetachFromDisposeScope());
        basisSources = members.Select(x => x.Projector.Basis).ToArray();
    }

    /// <summary>
    /// Stacked moments shaped like <paramref name="r"/> whose views the members hold; rebuilt from the members' own when
    /// one was replaced (a checkpoint loaded) or reshaped (zeros, as <see cref="AdamMoments.EnsureShapeOf"/> makes them).
    /// </summary>
    private void EnsureStackedMoments(Tensor r)
    {
        for (var i = 0; i < members.Count; i++)
        {
            using var row = r.select(0, i);
            members[i].Moments.EnsureShapeOf(row);
        }
        if (m is not null && members.Select((x, i) => ReferenceEquals(x.Moments.M, mViews[i]) && ReferenceEquals(x.Moments.V, vViews[i])).All(same => same)) return;
        using (var scope = NewDisposeScope())
        {
            var (newM, newV) = (torch.stack(members.Select(x => x.Moments.M!)).DetachFromDisposeScope(), torch.stack(members.Select(x => x.Moments.V!)).DetachFromDisposeScope());
            (m, v) = (Swap(m, newM), Swap(v, newV));
        }
        (mViews, vViews) = (new Tensor[members.Count], new Tensor[members.Count]);
        for (var i = 0; i < members.Count; i++)
        {
            using (var scope = NewDisposeScope())
                (mViews[i], vViews[i]) = (m.select(0, i).DetachFromDisposeScope(), v!.select(0, i).DetachFromDisposeScope());
            members[i].Moments.Replace(mViews[i], vViews[i]);
        }
    }

    private static Tensor Swap(Tensor? old, Tensor replacement)
    {
        old?.Dispose();
        return replacement;
    }

    public void Dispose()
    {
        basis?.Dispose();
        m?.Dispose();
        v?.Dispose();
        (basis, m, v) = (null, null, null);
    }
}
