using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Benchmarks.Torch;

/// <summary>Peak float32 matmul GFLOP/s of this process (best of <paramref name="repeats"/>): the yardstick for model FLOP rates.</summary>
internal static class MatmulRate
{
    public static double BestGflops(int n, int repeats)
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(0);
        var a = torch.randn([n, n], generator: g);
        var b = torch.randn([n, n], generator: g);
        torch.matmul(a, b).Dispose();
        var best = double.MaxValue;
        for (var i = 0; i < repeats; i++)
        {
            var watch = Stopwatch.StartNew();
            torch.matmul(a, b).Dispose();
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        return 2.0 * n * n * n / best / 1e9;
    }
}
