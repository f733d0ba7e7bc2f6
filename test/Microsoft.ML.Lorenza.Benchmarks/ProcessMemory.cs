using System.Globalization;

namespace Microsoft.ML.Lorenza.Benchmarks;

/// <summary>This process's resident memory, from /proc/self/status (Linux; 0 elsewhere).</summary>
public static class ProcessMemory
{
    /// <summary>Peak resident set size (VmHWM).</summary>
    public static long PeakRssBytes() => Read("VmHWM:");

    /// <summary>Current resident set size (VmRSS).</summary>
    public static long CurrentRssBytes() => Read("VmRSS:");

    /// <summary>Resets the peak to the current size (writing 5 to /proc/self/clear_refs), after a full GC.</summary>
    public static void ResetPeak()
    {
        GC.Collect();
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static long Read(string field)
    {
        if (!File.Exists("/proc/self/status")) return 0;
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field, StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        return 0;
    }
}
