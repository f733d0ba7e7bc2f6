using Microsoft.ML.Lorenza.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Optimizers;

/// <summary>
/// An orthonormal basis of the dominant column space of a matrix, by randomized range finding:
/// Y = G·Ω (Ω ~ N(0, 1), n×(r+p)); k power iterations Y ← G·(Gᵀ·Y) with a QR after each half;
/// Q = qr(Y).Q; then the small SVD B = QᵀG = Ũ Σ Vᵀ rotates Q so that P = Q·Ũ[:, :r] has its columns
/// ordered by singular value. Cost O(m·n·(r+p)) instead of a full SVD's O(m·n·min(m, n)).
/// </summary>
public static class RangeFinder
{
    /// <summary>The m×r basis of <paramref name="g"/> (m×n). Ω is drawn from <paramref name="generator"/>, which lives on g's device.</summary>
    public static Tensor LeftBasis(Tensor g, int rank, int oversampling, int powerIterations, Generator generator)
    {
        long m = g.size(0), n = g.size(1);
        var r = (int)Math.Min(rank, Math.Min(m, n));
        var columns = (int)Math.Min(r + oversampling, Math.Min(m, n));
        using var scope = torch.NewDisposeScope();
        var omega = torch.randn([n, columns], dtype: g.dtype, device: g.device, generator: generator);
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

    /// <summary>The exact top-r left singular vectors (GaLore's projector): a full SVD.</summary>
    public static Tensor SvdLeftBasis(Tensor g, int rank)
    {
        using var scope = torch.NewDisposeScope();
        var (u, _, _) = torch.linalg.svd(g, fullMatrices: false);
        var r = (int)Math.Min(rank, u.size(1));
        return u.narrow(1, 0, r).contiguous().MoveToOuterDisposeScope();
    }
}
