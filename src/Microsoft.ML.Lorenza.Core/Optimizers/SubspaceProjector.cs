using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Optimizers;

/// <summary>Where the bases of low-rank Adam come from.</summary>
public enum Subspace
{
    /// <summary>No subspace: full m×n moments (AdamW, SAM, AdaZo-SAM).</summary>
    None,
    /// <summary>LORENZA: randomized range finder, refreshed at the end of every T-th step from G_SAM.</summary>
    RangeFinder,
    /// <summary>GaLore: full SVD of the current gradient at steps 0, T, 2T, … before the update.</summary>
    Svd,
}

/// <summary>
/// The rank-r subspace of one m×n weight's gradient that GaLore and LORENZA keep Adam in (galore_torch's projector):
/// a left basis P (m×r) when m ≤ n, so G projects to R = PᵀG (r×n) and back as P·N; a right basis P (n×r) when m &gt; n,
/// so G projects to G·P (m×r) and back as N·Pᵀ. The basis comes from a gradient (<see cref="Refresh"/>).
/// </summary>
internal sealed class SubspaceProjector
{
    private readonly Tensor weight;
    private readonly Subspace source;

    public SubspaceProjector(OptimizedParameter parameter, Subspace source, int rank)
    {
        CheckRank(parameter, rank);
        (weight, this.source, RightSide) = (parameter.Tensor, source, parameter.Tensor.size(0) > parameter.Tensor.size(1));
    }

    /// <summary>Refuses a rank above min(m, n) of <paramref name="parameter"/>'s matrix, naming both.</summary>
    internal static void CheckRank(OptimizedParameter parameter, int rank)
    {
        long m = parameter.Tensor.size(0), n = parameter.Tensor.size(1);
        if (rank > Math.Min(m, n))
            throw new ArgumentOutOfRangeException("options", rank, $"Rank = {rank} is invalid for {parameter.Name} ({m}×{n}): it must be in [1, min(m, n) = {Math.Min(m, n)}].");
    }

    /// <summary>
    /// On the CPU, matrices above this many elements are back-projected in slices (the word embedding: 38.6 M, a 154 MB
    /// temporary whole). On a GPU every slice is a kernel launch, so the product is taken whole.
    /// </summary>
    internal const long BackProjectionSlice = 4L * 1024 * 1024;

    public bool RightSide { get; }
    /// <summary>P, or null before the first refresh.</summary>
    public Tensor? Basis { get; private set; }
    /// <summary>‖R‖/‖G‖ at the last update: how much of the gradient the subspace held (the refresh tolerance reads it).</summary>
    public double CapturedFraction { get; set; } = 1;

    public long[] ProjectedShape => Basis is null ? weight.shape
        : RightSide ? [weight.size(0), Basis.size(1)] : [Basis.size(1), weight.size(1)];

    /// <summary>R = PᵀG (left), G·P (right); G itself before the first refresh.</summary>
    public Tensor Project(Tensor g) =>
        Basis is null ? g.alias() : RightSide ? torch.matmul(g, Basis) : torch.matmul(Basis.t(), g);

    /// <summary>scale·P·N (or scale·N·Pᵀ) as a low-rank change of the weight, for a <see cref="Perturbation"/>.</summary>
    public LowRankDelta Delta(Tensor projected, double scale) =>
        Basis is null ? new LowRankDelta(projected, null, scale)
        : RightSide ? new LowRankDelta(projected, Basis.t(), scale)
        : new LowRankDelta(Basis, projected, scale);

    /// <summary>W += step · P·N (or N·Pᵀ).</summary>
    public void AddBackProjected(Tensor w, Tensor normalized, Scalar step) => AddBackProjected(w, normalized, Basis!, RightSide, step);

    /// <summary>
    /// A new basis from the gradient <paramref name="grad"/>: its top-r singular vectors (GaLore) or the range finder's
    /// (LORENZA, Ω drawn from the seed <paramref name="seed"/> returns, which is called only then).
    /// </summary>
    public void Refresh(Tensor grad, OptimizerOptions options, Func<ulong> seed)
    {
        using var scope = torch.NewDisposeScope();
        var g = RightSide ? grad.t() : grad;
        Tensor basis;
        if (source == Subspace.Svd)
        {
            basis = SvdBasis(g, options.Rank);
        }
        else
            basis = RangeFinderBasis(g, options.Rank, options.Oversampling, options.PowerIterations, seed());
        Replace(WithCanonicalSigns(basis).DetachFromDisposeScope());
    }

    public void Replace(Tensor? basis)
    {
        Basis?.Dispose();
        Basis = basis;
    }

    /// <summary>
    /// W += step · P·N (left basis, N r×n) or N·Pᵀ (right basis, N m×r). Large matrices go in slices of rows (right) or
    /// columns (left) — the same products element by element — so the m×n update is never a whole temporary.
    /// </summary>
    internal static void AddBackProjected(Tensor w, Tensor normalized, Tensor basis, bool rightSide, Scalar step)
    {
        long m = w.size(0), n = w.size(1);
        if (m * n <= BackProjectionSlice || w.device_type != DeviceType.CPU)
        {
            using var back = rightSide ? torch.matmul(normalized, basis.t()) : torch.matmul(basis, normalized);
            w.add_(back, step);
            return;
        }
        var (dimension, length) = rightSide ? (0, m) : (1, n);
        var slice = Math.Max(1, BackProjectionSlice / (rightSide ? n : m));
        for (long start = 0; start < length; start += slice)
        {
            using var scope = NewDisposeScope();
            var count = Math.Min(slice, length - start);
            var back = rightSide ? torch.matmul(normalized.narrow(0, start, count), basis.t()) : torch.matmul(basis, normalized.narrow(1, start, count));
            w.narrow(dimension, start, count).add_(back, step);
        }
    }

    /// <summary>
    /// An orthonormal m×r basis of the dominant column space of <paramref name="g"/> (m×n), by randomized range finding:
    /// Y = G·Ω (Ω ~ N(0, 1), n×(r+p), drawn on g's device from <paramref name="seed"/>); k power iterations
    /// Y ← G·(Gᵀ·Y) with a QR after each half; Q = qr(Y).Q; then the small SVD QᵀG = Ũ Σ Vᵀ orders the columns by
    /// singular value: P = Q·Ũ[:, :r]. O(m·n·(r+p)) instead of a full SVD's O(m·n·min(m, n)).
    /// </summary>
    internal static Tensor RangeFinderBasis(Tensor g, int rank, int oversampling, int powerIterations, ulong seed)
    {
        long m = g.size(0), n = g.size(1);
        var r = (int)Math.Min(rank, Math.Min(m, n));
        var columns = (int)Math.Min(r + oversampling, Math.Min(m, n));
        using var scope = torch.NewDisposeScope();
        var omega = SeededNormal.Draw([n, columns], seed, g.device, g.dtype);
        var y = torch.matmul(g, omega);
        for (var k = 0; k < powerIterations; k++)
        {
            var q1 = torch.linalg.qr(y).Q;
            var z = torch.linalg.qr(torch.matmul(g.t(), q1)).Q;
            y = torch.matmul(g, z);
        }
        var q = torch.linalg.qr(y).Q;
        var (u, _, _) = torch.linalg.svd(torch.matmul(q.t(), g), fullMatrices: false);
        return torch.matmul(q, u.narrow(1, 0, r)).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The basis with each column's sign fixed: its largest entry in magnitude made positive. A singular vector is defined
    /// up to its sign, and LAPACK and cuSOLVER pick differently; Adam's moments carry over a refresh in the basis's
    /// coordinates, so an arbitrary sign would make the run depend on the library (the CPU and CUDA runs would part).
    /// </summary>
    internal static Tensor WithCanonicalSigns(Tensor basis)
    {
        using var scope = torch.NewDisposeScope();
        using var largest = basis.abs().argmax(0, keepdim: true);
        var signs = basis.gather(0, largest).sign();
        signs.masked_fill_(signs.eq(0), 1);
        return basis.mul(signs).MoveToOuterDisposeScope();
    }

    /// <summary>The exact top-r left singular vectors of <paramref name="g"/> (GaLore's basis): a full SVD.</summary>
    internal static Tensor SvdBasis(Tensor g, int rank)
    {
        using var scope = torch.NewDisposeScope();
        var (u, _, _) = torch.linalg.svd(g, fullMatrices: false);
        var r = (int)Math.Min(rank, u.size(1));
        return u.narrow(1, 0, r).contiguous().MoveToOuterDisposeScope();
    }
}
