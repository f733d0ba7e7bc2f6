using Microsoft.ML.Lorenza.Runtime;

namespace Microsoft.ML.Lorenza.Configuration;

/// <summary>The type linear layers and attention products compute in (mixed precision).</summary>
public enum ComputePrecision
{
    /// <summary>float32 everywhere.</summary>
    None,
    /// <summary>bfloat16 products on casts of the float32 master weights.</summary>
    Bf16,
    /// <summary>float16 products on casts of the float32 master weights.</summary>
    Fp16,
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
    /// float32 everywhere. Any device; fast where the hardware has bfloat16 units (CUDA, recent CPUs).
    /// </summary>
    [Option("--precision", "linear layers in that type on float32 master weights (see README)")]
    public ComputePrecision Precision { get; set; } = ComputePrecision.None;

    public void Validate() =>
        OptionCheck.That(Enum.IsDefined(Precision), nameof(Precision), Precision, "None, Bf16 or Fp16");
}
