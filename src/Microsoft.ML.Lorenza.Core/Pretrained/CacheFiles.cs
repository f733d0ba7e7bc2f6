using System.Diagnostics;
using System.Globalization;

namespace Microsoft.ML.Lorenza.Pretrained;

/// <summary>
/// What both model caches (the converted NuGet models under LORENZA_CACHE and the Hugging Face Hub cache) do to their
/// files, in one place: a lock file per item that other processes honour (ours, and Python's huggingface_hub, which
/// takes the same kind of lock on the same path), temporary names that carry the writer's process id so that what a
/// killed process left is recognised and removed, moving a finished file or folder into place in one rename, and the
/// free-space check made before a download.
/// </summary>
internal static class CacheFiles
{
    /// <summary>How long <see cref="Lock"/> waits for another process before giving up.</summary>
    internal static TimeSpan LockTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Free bytes on the disk holding a folder; replaceable in tests.</summary>
    internal static Func<string, long> FreeSpace { get; set; } = DefaultFreeSpace;

    /// <summary>
    /// Takes the exclusive lock <paramref name="lockPath"/> (created if missing, never deleted: deleting a lock file
    /// another process has open would let a third one lock a new file of the same name). On Linux and macOS this is
    /// flock(2), the lock Python's filelock takes, so a download by huggingface_hub and one by us wait for each other;
    /// on Windows the file is opened without sharing. Threads of this process wait for each other too. Says once, through
    /// <paramref name="log"/>, that it waits.
    /// </summary>
    public static IDisposable Lock(string lockPath, string what, Action<string>? log, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);
        var clock = Stopwatch.StartNew();
        var said = false;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException) when (File.Exists(lockPath))
            {
                if (!said)
                {
                    log?.Invoke($"waiting for {what}: another process holds {lockPath}");
                    said = true;
                }
                if (clock.Elapsed > LockTimeout)
                    throw new PretrainedModelException($"{lockPath} has been held by another process for {LockTimeout.TotalMinutes:F0} minutes; if no download is running, delete that file and try again.");
                Thread.Sleep(100);
            }
        }
    }

    /// <summary>A temporary name beside <paramref name="path"/> that names this process: .&lt;name&gt;.&lt;pid&gt;.&lt;guid&gt;.tmp.</summary>
    public static string TemporaryBeside(string path) =>
        Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");

    /// <summary>
    /// Deletes what <see cref="TemporaryBeside"/> made for <paramref name="name"/> in <paramref name="folder"/> (files and
    /// folders) when the process that made it no longer runs; returns how many. A live writer's files are left alone.
    /// </summary>
    public static int RemoveAbandoned(string folder, string name)
    {
        if (!Directory.Exists(folder)) return 0;
        var removed = 0;
        foreach (var entry in Directory.EnumerateFileSystemEntries(folder, $".{name}.*.tmp"))
        {
            var parts = Path.GetFileName(entry)[(name.Length + 2)..].Split('.');
            if (parts.Length != 3 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                || pid == Environment.ProcessId || RunLock.IsRunning(pid)) continue;
            if (TryDelete(entry)) removed++;
        }
        return removed;
    }

    /// <summary>Moves a finished file into place in one rename (replacing what is there), so readers see all of it or nothing.</summary>
    public static void MoveIntoPlace(string temporary, string path) => File.Move(temporary, path, overwrite: true);

    /// <summary>Deletes a file or a folder, quietly; false when it could not.</summary>
    public static bool TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path) && !File.GetAttributes(path).HasFlag(FileAttributes.ReparsePoint)) Directory.Delete(path, recursive: true);
            else File.Delete(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>
    /// Refuses a download of <paramref name="bytes"/> into <paramref name="folder"/> when its disk has less free space
    /// (plus 1 % and 16 MB to spare), naming both numbers and <paramref name="fix"/>.
    /// </summary>
    public static void CheckFreeSpace(string folder, long bytes, string what, string fix)
    {
        var existing = Path.GetFullPath(folder);
        while (!Directory.Exists(existing) && Path.GetDirectoryName(existing) is { } parent) existing = parent;
        long free;
        try { free = FreeSpace(existing); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException) { return; } // unknown: let the write tell
        var needed = bytes + bytes / 100 + (16 << 20);
        if (free < needed)
            throw new PretrainedModelException($"not enough disk space for {what}: {Megabytes(bytes)} to download into {folder}, {Megabytes(free)} free; {fix}.");
    }

    private static long DefaultFreeSpace(string folder) => new DriveInfo(folder).AvailableFreeSpace;

    public static string Megabytes(long bytes) => (bytes / 1e6).ToString("F1", CultureInfo.InvariantCulture) + " MB";
}
