using System.Runtime.InteropServices;

namespace Microsoft.ML.Lorenza.Runtime;

/// <summary>
/// A process-level setting that makes libtorch training steps faster on small Linux machines (measured by
/// the `process-settings` benchmark), applied from inside the process so that every host — the CLI, test
/// runners, an ML.NET app — gets it without a launcher script: glibc keeps freed multi-MB buffers (mallopt
/// trim and mmap thresholds) instead of returning them to the OS and page-faulting them back in every step.
/// OpenMP's wait policy is left to libgomp's default (spin briefly, then sleep): with libtorch 2.10 and MKL,
/// OMP_WAIT_POLICY=PASSIVE (which the previous engine set against OpenBLAS's threads) made the demo's training
/// 20-35 % slower and helped no larger step. A user's own GLIBC_TUNABLES wins; LORENZA_PROCESS_TUNING=0 turns it off.
/// </summary>
internal static partial class ProcessTuning
{
    private const int M_TRIM_THRESHOLD = -1;
    private const int M_MMAP_THRESHOLD = -3;
    private const int MmapThresholdMax = 32 << 20;  // glibc's upper bound for M_MMAP_THRESHOLD on 64-bit
    private const int TrimThreshold = 1 << 30;

    /// <summary>What was applied, for `lorenza info`.</summary>
    public static string Summary { get; private set; } = "not applied";

    public static void Apply()
    {
        if (!OperatingSystem.IsLinux()) { Summary = "none (not Linux)"; return; }
        if (Environment.GetEnvironmentVariable("LORENZA_PROCESS_TUNING") == "0") { Summary = "off (LORENZA_PROCESS_TUNING=0)"; return; }
        var applied = new List<string>();
        try
        {
            if (Environment.GetEnvironmentVariable("GLIBC_TUNABLES")?.Contains("malloc") == true) applied.Add("GLIBC_TUNABLES (yours)");
            else if (mallopt(M_MMAP_THRESHOLD, MmapThresholdMax) == 1 && mallopt(M_TRIM_THRESHOLD, TrimThreshold) == 1)
                applied.Add("malloc keeps freed buffers (mmap threshold 32 MiB, trim threshold 1 GiB)");
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            applied.Add("malloc untouched (not glibc)");
        }
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is { } policy) applied.Add($"OMP_WAIT_POLICY={policy} (yours)");
        Summary = string.Join("; ", applied);
    }

    [LibraryImport("libc")]
    private static partial int mallopt(int param, int value);
}
