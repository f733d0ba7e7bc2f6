using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Tests.Support;

/// <summary>Exact tensor comparisons (TorchSharp's Tensor.equal is element-wise, not a bool).</summary>
internal static class TensorAssert
{
    /// <summary>True when both have the same shape, type and every element equal (bit for bit, NaN aside).</summary>
    public static bool Identical(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape) || a.dtype != b.dtype) return false;
        using var scope = NewDisposeScope();
        return a.eq(b).all().item<bool>();
    }
}
