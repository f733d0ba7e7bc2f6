using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Runtime;

/// <summary>
/// Where to compute, as users write it: "auto" (CUDA when this process can use it, else the CPU), "cpu", "cuda" (= cuda:0)
/// or "cuda:N". Parsed once (<see cref="Parse"/>, or implicitly from a string), checked without loading libtorch, and
/// turned into a TorchSharp device by <see cref="Resolve"/>.
/// </summary>
public readonly record struct ComputeDevice
{
    private ComputeDevice(string name, int? cudaIndex) => (Name, CudaIndex) = (name, cudaIndex);

    /// <summary>"auto", "cpu" or "cuda:N".</summary>
    public string Name { get; }

    /// <summary>N of "cuda:N"; null for "auto" and "cpu".</summary>
    public int? CudaIndex { get; }

    public static ComputeDevice Auto { get; } = new("auto", null);
    public static ComputeDevice Cpu { get; } = new("cpu", null);
    public static ComputeDevice Cuda(int index = 0) => index >= 0 ? new($"cuda:{index}", index) : throw new ArgumentOutOfRangeException(nameof(index), index, "A CUDA device index is 0 or more.");

    /// <summary>"auto", "cpu", "cuda" or "cuda:N" (any case, surrounding spaces ignored); anything else is refused naming the accepted forms.</summary>
    public static ComputeDevice Parse(string text) =>
        TryParse(text, out var device) ? device : throw new ArgumentException(UnknownMessage(text), nameof(text));

    /// <summary><see cref="Parse"/> without the exception: false for anything but "auto", "cpu", "cuda" or "cuda:N".</summary>
    public static bool TryParse(string? text, out ComputeDevice device)
    {
        var name = text?.Trim().ToLowerInvariant();
        device = name switch
        {
            "auto" => Auto,
            "cpu" => Cpu,
            "cuda" => Cuda(0),
            _ when name is not null && name.StartsWith("cuda:", StringComparison.Ordinal) && name.Length > 5 && name[5..].All(char.IsAsciiDigit)
                && int.TryParse(name.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var index) => Cuda(index),
            _ => default,
        };
        return device.Name is not null;
    }

    /// <summary>What <see cref="Parse"/> says of a name it refuses.</summary>
    public static string UnknownMessage(string? text) => $"Unknown device '{text}'. Use 'auto', 'cpu', 'cuda' or 'cuda:N' (N = 0, 1, ...).";

    public static implicit operator ComputeDevice(string text) => Parse(text);

    public override string ToString() => Name ?? "auto";

    /// <summary>
    /// The TorchSharp device. "auto" is CUDA when TorchSharp finds a CUDA libtorch (the app references TorchSharp-cuda-linux
    /// or TorchSharp-cuda-windows) and a GPU, else the CPU. A CUDA device this process cannot use is refused
    /// (<see cref="InvalidOperationException"/>), saying what to add or use instead.
    /// </summary>
    public Device Resolve()
    {
        TorchRuntime.EnsureLoaded();
        if (this == Cpu || ((Name ?? "auto") == "auto" && !TorchRuntime.CudaAvailable)) return CPU;
        if (!TorchRuntime.CudaAvailable)
            throw new InvalidOperationException($"Device '{this}': CUDA is not available (TorchSharp found no CUDA libtorch or no GPU). Add TorchSharp-cuda-linux or TorchSharp-cuda-windows to the app for CUDA, or use device 'cpu'.");
        var index = CudaIndex ?? 0;
        var count = TorchRuntime.CudaDeviceCount;
        if (index >= count)
            throw new InvalidOperationException($"Device '{this}' does not exist: this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}.");
        return new Device(DeviceType.CUDA, index);
    }
}
