using System.Diagnostics;
using System.Globalization;

namespace Microsoft.ML.Lorenza;

/// <summary>
/// A lock file beside an output folder (<c>.NAME.lock</c>, holding the owner's process id and start time)
/// so that a second run into the same folder is refused, naming the first run's process id. A lock left by
/// a process that no longer runs (killed, machine restarted) is taken over. Disposing releases it.
/// </summary>
public sealed class RunLock : IDisposable
{
    private RunLock(string path) => LockPath = path;

    public string LockPath { get; }

    public static string PathFor(string folder)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        return Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.lock");
    }

    public static RunLock Acquire(string folder)
    {
        var path = PathFor(folder);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var me = Process.GetCurrentProcess();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                using (var writer = new StreamWriter(stream))
                    writer.Write(FormattableString.Invariant($"{me.Id} {me.StartTime.ToUniversalTime().Ticks}\n"));
                return new RunLock(path);
            }
            catch (IOException) when (File.Exists(path) && attempt < 3)
            {
                if (Owner(path) is { } owner)
                    throw new IOException($"{folder} is being written by another lorenza run (process {owner}, lock file {path}); wait for it to end, or choose another --output.");
                TryDelete(path); // the owner is gone: take the lock over
            }
        }
    }

    /// <summary>The process id in a lock file if that process still runs (and is the one that wrote it), else null.</summary>
    private static int? Owner(string path)
    {
        string[] parts;
        try { parts = File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries); }
        catch (IOException) { return null; }
        if (parts.Length < 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out var pid) || !long.TryParse(parts[1], CultureInfo.InvariantCulture, out var ticks))
            return null;
        return IsRunning(pid, ticks) ? pid : null;
    }

    /// <summary>Whether process <paramref name="pid"/> runs and started at <paramref name="startTicks"/> (UTC; a reused id started later).</summary>
    internal static bool IsRunning(int pid, long? startTicks = null)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            if (process.HasExited) return false;
            return startTicks is not { } ticks || Math.Abs(process.StartTime.ToUniversalTime().Ticks - ticks) < TimeSpan.TicksPerSecond;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    public void Dispose() => TryDelete(LockPath);

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
