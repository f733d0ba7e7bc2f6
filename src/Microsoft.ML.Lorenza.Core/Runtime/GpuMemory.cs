using System.Runtime.InteropServices;

namespace Microsoft.ML.Lorenza.Runtime;

/// <summary>Memory of one GPU as NVML reports it (bytes); the process's figure is what this process holds on it.</summary>
public sealed record GpuMemoryInfo(int Index, string Name, long Total, long Used, long UsedByThisProcess);

/// <summary>
/// GPU memory figures (and the compute capability) through NVML (the driver's management library), because TorchSharp
/// 0.107 exposes no CUDA memory statistics or device properties. Null where there is no NVIDIA driver (CPU machines).
/// </summary>
public static partial class GpuMemory
{
    private const string Nvml = "libnvidia-ml.so.1";
    private static readonly Lazy<bool> Initialized = new(() =>
    {
        try { return nvmlInit_v2() == 0; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
    });

    /// <summary>The memory of GPU <paramref name="index"/>, or null without NVML or that GPU.</summary>
    public static GpuMemoryInfo? Query(int index = 0)
    {
        if (!OperatingSystem.IsLinux() || !Initialized.Value) return null;
        if (nvmlDeviceGetHandleByIndex_v2((uint)index, out var device) != 0) return null;
        if (nvmlDeviceGetMemoryInfo(device, out var memory) != 0) return null;
        var name = new byte[96];
        var nameText = nvmlDeviceGetName(device, name, (uint)name.Length) == 0 ? System.Text.Encoding.ASCII.GetString(name).TrimEnd('\0') : "?";
        return new GpuMemoryInfo(index, nameText, (long)memory.Total, (long)memory.Used, ThisProcess(device));
    }

    /// <summary>GPU <paramref name="index"/>'s name and CUDA compute capability (e.g. 9.0 for Hopper), or null without NVML or that GPU.</summary>
    public static (string Name, int Major, int Minor)? ComputeCapability(int index = 0)
    {
        if (!OperatingSystem.IsLinux() || !Initialized.Value) return null;
        if (nvmlDeviceGetHandleByIndex_v2((uint)index, out var device) != 0) return null;
        try
        {
            if (nvmlDeviceGetCudaComputeCapability(device, out var major, out var minor) != 0) return null;
            var name = new byte[96];
            return (nvmlDeviceGetName(device, name, (uint)name.Length) == 0 ? System.Text.Encoding.ASCII.GetString(name).TrimEnd('\0') : "GPU", major, minor);
        }
        catch (EntryPointNotFoundException) { return null; }
    }

    private static long ThisProcess(IntPtr device)
    {
        var processes = new ProcessInfo[64];
        var count = (uint)processes.Length;
        if (nvmlDeviceGetComputeRunningProcesses_v3(device, ref count, processes) != 0) return -1;
        var pid = (uint)Environment.ProcessId;
        return processes.Take((int)count).Where(p => p.Pid == pid).Sum(p => (long)p.UsedGpuMemory);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MemoryInfo { public ulong Total, Free, Used; }

    [StructLayout(LayoutKind.Sequential)]
    private struct ProcessInfo { public uint Pid; public ulong UsedGpuMemory; public uint GpuInstanceId, ComputeInstanceId; }

    [LibraryImport(Nvml)] private static partial int nvmlInit_v2();
    [LibraryImport(Nvml)] private static partial int nvmlDeviceGetHandleByIndex_v2(uint index, out IntPtr device);
    [LibraryImport(Nvml)] private static partial int nvmlDeviceGetMemoryInfo(IntPtr device, out MemoryInfo memory);
    [LibraryImport(Nvml)] private static partial int nvmlDeviceGetName(IntPtr device, [Out] byte[] name, uint length);
    [LibraryImport(Nvml)] private static partial int nvmlDeviceGetCudaComputeCapability(IntPtr device, out int major, out int minor);
    [LibraryImport(Nvml)] private static partial int nvmlDeviceGetComputeRunningProcesses_v3(IntPtr device, ref uint count, [Out] ProcessInfo[] processes);
}
