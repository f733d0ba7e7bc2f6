using System.Diagnostics;

namespace Microsoft.ML.Lorenza.Tests.Support;

/// <summary>
/// Runs a command in a fresh process and samples its resident memory (VmRSS of /proc/&lt;pid&gt;/status) every 100 ms, so a
/// long run's memory can be judged apart from the test process's own (its glibc arenas, other tests' garbage).
/// </summary>
public sealed record ResidentMemoryRun(int ExitCode, int StdoutLines, string Stderr, IReadOnlyList<(TimeSpan At, long Bytes)> Samples, TimeSpan Elapsed)
{
    public static ResidentMemoryRun Of(string file, string arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // One libtorch thread: what is measured is memory, and OpenMP's spinning threads slow a busy machine several times over.
        info.Environment["OMP_NUM_THREADS"] = "1";
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start " + file);
        var lines = 0;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) Interlocked.Increment(ref lines); };
        process.BeginOutputReadLine();
        var stderr = process.StandardError.ReadToEndAsync();
        var samples = new List<(TimeSpan, long)>();
        while (!process.WaitForExit(100))
        {
            if (clock.Elapsed > timeout)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{file} {arguments} ran longer than {timeout}");
            }
            if (Resident(process.Id) is { } bytes) samples.Add((clock.Elapsed, bytes));
        }
        process.WaitForExit();
        return new ResidentMemoryRun(process.ExitCode, lines, stderr.Result, samples, clock.Elapsed);
    }

    /// <summary>
    /// How much the resident memory rose after the warm-up (the first <paramref name="warmUpShare"/> of the run: libtorch's
    /// pools, the JIT, GC budgets), relative to where it stood then: the largest later sample over the first sample after it.
    /// </summary>
    public double GrowthAfterWarmUp(double warmUpShare = 0.25)
    {
        var warm = Samples.FirstOrDefault(s => s.At >= Elapsed * warmUpShare);
        if (warm.Bytes == 0) throw new InvalidOperationException($"no memory sample after the warm-up ({Samples.Count} samples over {Elapsed})");
        return (double)(Samples.Where(s => s.At >= warm.At).Max(s => s.Bytes) - warm.Bytes) / warm.Bytes;
    }

    public string Describe() => $"{Samples.Count} samples over {Elapsed.TotalSeconds:F0} s: " +
        string.Join(", ", Samples.Where((_, i) => i % Math.Max(1, Samples.Count / 10) == 0).Select(s => $"{s.At.TotalSeconds:F0} s {s.Bytes / 1048576.0:F0} MiB"));

    private static long? Resident(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (IOException)
        {
        }
        return null; // the process ended between the check and the read
    }
}
