using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Runtime;

/// <summary>How a resolved TorchSharp device is named back to users (the names they write are <see cref="ComputeDevice"/>).</summary>
public static class Devices
{
    /// <summary>"cpu", or "cuda:N".</summary>
    public static string Describe(Device device) => device.type == DeviceType.CUDA ? $"cuda:{Math.Max(device.index, 0)}" : "cpu";
}
