using System.Runtime.CompilerServices;
using TorchSharp;

namespace Microsoft.ML.Lorenza.Runtime;

/// <summary>
/// The TorchSharp/libtorch runtime as the engine uses it: loaded once, with a one-line error when it cannot
/// be (instead of TorchSharp's page-long trace), the intra-op thread count, and the facts `lorenza info` shows.
/// Every engine entry point calls <see cref="EnsureLoaded"/> before its first tensor.
/// </summary>
public static class TorchRuntime
{
    private static readonly Lazy<Exception?> Loaded = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    // Runs when the engine assembly is first used, before anything can load libtorch: libgomp reads
    // OMP_WAIT_POLICY when it loads, so the process settings must come first.
#pragma warning disable CA2255 // a module initializer in a library, on purpose (see above)
    [ModuleInitializer]
    internal static void ApplyProcessSettings() => ProcessTuning.Apply();
#pragma warning restore CA2255

    /// <summary>Loads TorchSharp's native backend (once). Throws <see cref="TorchUnavailableException"/> with a one-line reason and fix.</summary>
    public static void EnsureLoaded()
    {
        if (Loaded.Value is { } failure) throw new TorchUnavailableException(failure.Message, failure);
    }

    private static Exception? Load()
    {
        if (NativeLibraryCheck.Problem() is { } problem) return new TorchUnavailableException(problem);
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
            torch.set_num_threads(DefaultThreadCount());
            return null;
        }
        catch (Exception e) when (e is TypeInitializationException or NotSupportedException or DllNotFoundException)
        {
            return new TorchUnavailableException($"TorchSharp's native backend did not load ({(e.InnerException ?? e).Message.Split('\n')[0]}); add the TorchSharp-cpu package (or TorchSharp-cuda-linux / TorchSharp-cuda-windows) to the app.", e);
        }
    }

    /// <summary>The libtorch version TorchSharp was built against, e.g. "2.10.0".</summary>
    public static string LibTorchVersion => torch.__version__;

    /// <summary>The TorchSharp assembly version.</summary>
    public static string TorchSharpVersion => typeof(torch).Assembly.GetName().Version?.ToString(3) ?? "?";

    /// <summary>Threads in ATen's intra-op pool.</summary>
    public static int NumThreads
    {
        get { EnsureLoaded(); return torch.get_num_threads(); }
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), value, "The thread count must be at least 1.");
            EnsureLoaded();
            torch.set_num_threads(value);
        }
    }

    /// <summary>The process settings applied at start-up (see <see cref="ProcessTuning"/>).</summary>
    public static string ProcessTuningSummary => ProcessTuning.Summary;

    /// <summary>True when TorchSharp found a CUDA libtorch (TorchSharp-cuda-*) and a GPU.</summary>
    public static bool CudaAvailable { get { EnsureLoaded(); return torch.cuda.is_available(); } }

    public static int CudaDeviceCount { get { EnsureLoaded(); return CudaAvailable ? torch.cuda.device_count() : 0; } }

    /// <summary>
    /// The intra-op thread count at start-up: OMP_NUM_THREADS when the user set it (as PyTorch does), else
    /// every core (libtorch would otherwise count physical cores only, one on a 2-vCPU machine).
    /// </summary>
    internal static int DefaultThreadCount()
    {
        var text = Environment.GetEnvironmentVariable("OMP_NUM_THREADS");
        return int.TryParse(text, out var n) && n > 0 ? n : Environment.ProcessorCount;
    }
}

/// <summary>TorchSharp's native backend cannot be loaded in this process; the message says why and what to do.</summary>
public sealed class TorchUnavailableException : InvalidOperationException
{
    public TorchUnavailableException(string message) : base(message) { }
    public TorchUnavailableException(string message, Exception inner) : base(message, inner) { }
}
