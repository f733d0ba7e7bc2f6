using System.Runtime.InteropServices;

namespace Microsoft.ML.Lorenza.Runtime;

/// <summary>
/// Two process-level settings that make libtorch training steps several times faster on small Linux
/// machines (measured by the `process-settings` benchmark), applied from inside the process so that
/// every host — the CLI, test runners, an ML.NET app — gets them without a launcher script:
/// <list type="bullet">
/// <item>OMP_WAIT_POLICY=PASSIVE, set before libtorch (and so libgomp) is loaded: OpenMP threads sleep
/// between ops instead of spinning against OpenBLAS's threads.</item>
/// <item>glibc keeps freed multi-MB buffers (mallopt trim and mmap thresholds) instead of returning
/// them to the OS and page-faulting them back in every step.</item>
/// </list>
/// A user's own OMP_WAIT_POLICY or GLIBC_TUNABLES wins; LORENZA_PROCESS_TUNING=0 turns both off.
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
            if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is { } policy) applied.Add($"OMP_WAIT_POLICY={policy} (yours)");
            else if (setenv("OMP_WAIT_POLICY", "PASSIVE", 0) == 0) applied.Add("OMP_WAIT_POLICY=PASSIVE");
            if (Environment.GetEnvironmentVariable("GLIBC_TUNABLES")?.Contains("malloc") == true) applied.Add("GLIBC_TUNABLES (yours)");
            else if (mallopt(M_MMAP_THRESHOLD, MmapThresholdMax) == 1 && mallopt(M_TRIM_THRESHOLD, TrimThreshold) == 1)
                applied.Add("malloc keeps freed buffers (mmap threshold 32 MiB, trim threshold 1 GiB)");
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            applied.Add("malloc untouched (not glibc)");
        }
        Summary = string.Join("; ", applied);
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);

    [LibraryImport("libc")]
    private static partial int mallopt(int param, int value);
}
