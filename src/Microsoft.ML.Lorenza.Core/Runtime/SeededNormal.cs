using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Runtime;

/// <summary>
/// Standard normal draws fixed by a seed, on any device: the optimizers' probes and range-finder sketches.
/// On the CPU they come from a generator of that seed. TorchSharp 0.107 makes every <see cref="Generator"/> on the
/// CPU whatever device it is given (its native THSGenerator_new), and libtorch refuses a CPU generator for a CUDA
/// tensor, so on CUDA the device's default generator is seeded instead and draws where the tensor lives: same seed,
/// same numbers on that device, other numbers than the CPU's (as in PyTorch).
/// </summary>
internal static class SeededNormal
{
    /// <summary>
    /// Draw on the CPU and copy to the device, so that a seed gives the same numbers on every device (cross-device
    /// checks; costs a CPU draw and a copy each time). Off by default.
    /// </summary>
    internal static bool DrawOnCpu { get; set; }

    /// <summary>N(0, 1) of <paramref name="shape"/> and <paramref name="dtype"/> on <paramref name="device"/>, fixed by <paramref name="seed"/>.</summary>
    public static Tensor Draw(long[] shape, ulong seed, Device device, ScalarType dtype = ScalarType.Float32)
    {
        if (device.type == DeviceType.CUDA && !DrawOnCpu)
        {
            // manual_seed_all: the seed holds whichever GPU is current.
            torch.cuda.manual_seed_all(unchecked((long)seed));
            return torch.randn(shape, dtype, device);
        }
        using var generator = new Generator(seed);
        var drawn = torch.randn(shape, dtype, generator: generator);
        if (device.type == DeviceType.CPU) return drawn;
        using (drawn) return drawn.to(device);
    }
}
