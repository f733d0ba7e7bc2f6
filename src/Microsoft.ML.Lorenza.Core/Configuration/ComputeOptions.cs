using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Configuration;

/// <summary>The type linear layers and attention products compute in (mixed precision).</summary>
public enum ComputePrecision
{
    /// <summary>bf16 where the device executes it natively (CPUs with AVX512_BF16, GPUs of compute capability 8.0 or later), float32 elsewhere.</summary>
    Auto,
    /// <summary>float32 everywhere.</summary>
    None,
    /// <summary>bfloat16 products on casts of the float32 master weights.</summary>
    Bf16,
    /// <summary>float16 products on casts of the float32 master weights.</summary>
    Fp16,
}

/// <summary>The compute type a run uses on its device (null: float32) and why, as the run's first lines and `lorenza info` say it.</summary>
public sealed record ResolvedPrecision(ScalarType? ComputeType, string Description)
{
    public override string ToString() => Description;
}

/// <summary>Where and in what precision the run computes.</summary>
public sealed class ComputeOptions
{
    [Option("--device", "auto | cpu | cuda | cuda:N")]
    public ComputeDevice Device { get; set; } = ComputeDevice.Auto;
    /// <summary>
    /// Mixed precision: Bf16 (or Fp16) computes linear layers and attention products in that type on casts of
    /// the float32 master weights, with softmax, LayerNorm, residuals, logits, loss, gradients, optimizer state and
    /// zeroth-order probe losses in float32 (CUDA autocast's split; TorchSharp 0.107 has no autocast). None:
    /// float32 everywhere. Auto (the default): Bf16 where the device has bf16 units, None elsewhere (<see cref="Resolve(ComputePrecision, Device)"/>).
    /// </summary>
    [Option("--precision", "bf16 where the device has it natively (auto), or linear layers in that type on float32 master weights (see README)")]
    public ComputePrecision Precision { get; set; } = ComputePrecision.Auto;

    public void Validate() =>
        OptionCheck.That(Enum.IsDefined(Precision), nameof(Precision), Precision, "Auto, None, Bf16 or Fp16");

    /// <summary><see cref="Precision"/> on <paramref name="device"/>: what Auto picks there, and why.</summary>
    public ResolvedPrecision Resolve(Device device) => Resolve(Precision, device);

    /// <summary>
    /// Auto is bf16 on a CPU with AVX512_BF16 (<see cref="CpuFeatures"/>) and on a GPU of compute capability 8.0 or later
    /// (Ampere, Hopper; from NVML), float32 elsewhere (arm64 included). The others are what they say.
    /// </summary>
    public static ResolvedPrecision Resolve(ComputePrecision precision, Device device) => precision switch
    {
        ComputePrecision.None => new(null, "float32 (--precision none)"),
        ComputePrecision.Bf16 => new(ScalarType.BFloat16, "bf16 (--precision bf16)"),
        ComputePrecision.Fp16 => new(ScalarType.Float16, "fp16 (--precision fp16)"),
        _ when device.type == DeviceType.CUDA => GpuPrecision(Math.Max(device.index, 0)),
        _ => CpuFeatures.Bf16Instructions is { } instructions
            ? new(ScalarType.BFloat16, $"bf16 (auto: the CPU has {instructions})")
            : new(null, "float32 (auto: the CPU has no bf16 instructions, AVX512_BF16)"),
    };

    private static ResolvedPrecision GpuPrecision(int index) => GpuMemory.ComputeCapability(index) switch
    {
        { Major: >= 8 } gpu => new(ScalarType.BFloat16, $"bf16 (auto: {gpu.Name}, compute capability {gpu.Major}.{gpu.Minor})"),
        { } gpu => new(null, $"float32 (auto: {gpu.Name}, compute capability {gpu.Major}.{gpu.Minor}, has no bf16 units)"),
        null => new(null, "float32 (auto: the GPU's compute capability could not be read through NVML)"),
    };
}
