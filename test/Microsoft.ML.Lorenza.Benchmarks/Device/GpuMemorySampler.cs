using Microsoft.ML.Lorenza.Runtime;

namespace Microsoft.ML.Lorenza.Benchmarks.Device;

/// <summary>
/// The peak of GPU 0's memory in use while it runs, from NVML every 2 ms on its own thread (TorchSharp 0.107 has no CUDA
/// memory statistics). Device-wide and this process's figure; both include the CUDA context and what libtorch's caching
/// allocator holds, so they compare with PyTorch's max_memory_reserved plus the context, not with max_memory_allocated.
/// </summary>
internal sealed class GpuMemorySampler : IDisposable
{
    private readonly Thread thread;
    private volatile bool stop;
    private long peakUsed, peakProcess;

    public GpuMemorySampler()
    {
        thread = new Thread(Sample) { IsBackground = true, Name = "nvml-sampler" };
        thread.Start();
    }

    /// <summary>The GPU's memory in use now (bytes), or -1 without NVML.</summary>
    public static long UsedNow() => GpuMemory.Query(0)?.Used ?? -1;

    public long PeakUsedBytes => Interlocked.Read(ref peakUsed);
    public long PeakProcessBytes => Interlocked.Read(ref peakProcess);

    private void Sample()
    {
        while (!stop)
        {
            if (GpuMemory.Query(0) is { } gpu)
            {
                if (gpu.Used > Interlocked.Read(ref peakUsed)) Interlocked.Exchange(ref peakUsed, gpu.Used);
                if (gpu.UsedByThisProcess > Interlocked.Read(ref peakProcess)) Interlocked.Exchange(ref peakProcess, gpu.UsedByThisProcess);
            }
            Thread.Sleep(2);
        }
    }

    public void Dispose()
    {
        stop = true;
        thread.Join();
    }
}
