using System.Text.RegularExpressions;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Runtime;

/// <summary>Device names as users write them: "auto", "cpu", "cuda", "cuda:N".</summary>
public static partial class Devices
{
    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="name"/> is a device name (without loading libtorch).</summary>
    public static string CheckName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var text = name.Trim().ToLowerInvariant();
        if (!DeviceName().IsMatch(text))
            throw new ArgumentException($"Unknown device '{name}'. Use 'auto', 'cpu', 'cuda' or 'cuda:N' (N = 0, 1, ...).", nameof(name));
        return text;
    }

    /// <summary>
    /// The device a name stands for. "auto" is CUDA when TorchSharp finds a CUDA libtorch (the app references
    /// TorchSharp-cuda-linux or TorchSharp-cuda-windows) and a GPU, else the CPU. Throws
    /// <see cref="ArgumentException"/> for an unknown name and <see cref="InvalidOperationException"/> for a CUDA
    /// device this process cannot use.
    /// </summary>
    public static Device Resolve(string name)
    {
        var text = CheckName(name);
        TorchRuntime.EnsureLoaded();
        if (text == "cpu" || (text == "auto" && !TorchRuntime.CudaAvailable)) return CPU;
        if (!TorchRuntime.CudaAvailable)
            throw new InvalidOperationException($"Device '{name}': CUDA is not available (TorchSharp found no CUDA libtorch or no GPU). Add TorchSharp-cuda-linux or TorchSharp-cuda-windows to the app for CUDA, or use device 'cpu'.");
        var index = text.StartsWith("cuda:", StringComparison.Ordinal) ? int.Parse(text.AsSpan(5), System.Globalization.CultureInfo.InvariantCulture) : 0;
        var count = TorchRuntime.CudaDeviceCount;
        if (index >= count)
            throw new InvalidOperationException($"Device '{name}' does not exist: this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}.");
        return new Device(DeviceType.CUDA, index);
    }

    /// <summary>"cpu", or "cuda:N".</summary>
    public static string Describe(Device device) => device.type == DeviceType.CUDA ? $"cuda:{Math.Max(device.index, 0)}" : "cpu";

    [GeneratedRegex(@"^(auto|cpu|cuda|cuda:\d+)$")]
    private static partial Regex DeviceName();
}
