using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Runtime;

/// <summary>Reading tensor elements into .NET arrays, from any device.</summary>
public static class TensorData
{
    /// <summary>The elements in row-major order; the tensor's type must match <typeparamref name="T"/>.</summary>
    public static T[] ToArray<T>(this Tensor tensor) where T : unmanaged
    {
        if (tensor.device_type == TorchSharp.DeviceType.CPU) return tensor.data<T>().ToArray();
        using var cpu = tensor.cpu();
        return cpu.data<T>().ToArray();
    }
}
