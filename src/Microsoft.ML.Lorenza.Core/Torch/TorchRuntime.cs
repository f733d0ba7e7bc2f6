using System.Runtime.InteropServices;

namespace Microsoft.ML.Lorenza.Torch;

/// <summary>Process-wide facts and settings of the libtorch runtime: version, threads, BLAS, devices.</summary>
public static unsafe class TorchRuntime
{
    /// <summary>The libtorch version the native binding was built against, e.g. "1.13.0".</summary>
    public static string Version
    {
        get { Native.EnsureLoaded(); return Marshal.PtrToStringUTF8(Native.lt_torch_version()) ?? "?"; }
    }

    /// <summary>Threads in ATen's intra-op pool.</summary>
    public static int NumThreads
    {
        get { Native.EnsureLoaded(); return Native.lt_get_num_threads(); }
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), value, "Thread count must be at least 1.");
            Native.EnsureLoaded();
            Native.Check(Native.lt_set_num_threads(value));
        }
    }

    /// <summary>OpenBLAS's own thread count, or -1 when libtorch does not use OpenBLAS.</summary>
    public static int BlasThreads { get { Native.EnsureLoaded(); return Native.lt_blas_num_threads(); } }

    /// <summary>OpenBLAS's build description ("" when BLAS is not OpenBLAS: then matmul is ~20× slower).</summary>
    public static string BlasConfig { get { Native.EnsureLoaded(); return Marshal.PtrToStringUTF8(Native.lt_blas_config()) ?? ""; } }

    /// <summary>ATen's own description of its thread pools.</summary>
    public static string ParallelInfo =>
        Native.ReadBufferString((buffer, capacity) =>
        {
            var status = Native.lt_parallel_info((byte*)buffer, capacity, out var written);
            return (status, written);
        });

    /// <summary>The process settings applied at load (see ProcessTuning): wait policy and allocator.</summary>
    public static string ProcessTuningSummary { get { Native.EnsureLoaded(); return ProcessTuning.Summary; } }

    public static bool CudaAvailable { get { Native.EnsureLoaded(); return Native.lt_cuda_is_available() != 0; } }

    public static int CudaDeviceCount { get { Native.EnsureLoaded(); return Native.lt_cuda_device_count(); } }

    /// <summary>
    /// The intra-op thread count at start-up: OMP_NUM_THREADS when the user set it (as PyTorch does),
    /// else every core. libtorch's OpenMP pool would otherwise start at one thread on some machines.
    /// </summary>
    internal static int DefaultThreadCount()
    {
        var text = Environment.GetEnvironmentVariable("OMP_NUM_THREADS");
        return int.TryParse(text, out var n) && n > 0 ? n : Environment.ProcessorCount;
    }
}
