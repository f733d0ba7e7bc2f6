using System.Globalization;

namespace Microsoft.ML.Lorenza;

/// <summary>
/// The model folder a run writes: checked before training (not a file, writable, not someone else's files,
/// enough free space), cleaned of temporary files that dead runs left, and replaced all at once at the end
/// (written into a temporary sibling folder, then renamed), so a failed save leaves the previous model or nothing.
/// </summary>
public static class OutputFolder
{
    /// <summary>Files a model folder or a training run may hold; anything else means the folder is not ours to replace.</summary>
    public static readonly IReadOnlySet<string> ModelFiles = new HashSet<string>(StringComparer.Ordinal)
    {
        "config.json", "model.safetensors", "pytorch_model.bin", "vocab.json", "merges.txt", "lorenza.json", "learning-curves.svg", "checkpoint.safetensors",
        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt",
    };

    public static void Check(string folder, long bytesNeeded)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        if (File.Exists(full))
            throw new IOException($"--output {folder} is an existing file, not a folder; choose another --output or remove the file.");
        if (Directory.Exists(full))
        {
            var foreign = Directory.EnumerateFileSystemEntries(full).Select(Path.GetFileName).FirstOrDefault(n => !ModelFiles.Contains(n!) && !IsTemporary(n!));
            if (foreign is not null)
                throw new IOException($"--output {folder} holds '{foreign}', which is not part of a model, and would be replaced; choose a new or empty folder.");
        }
        var existing = Path.GetDirectoryName(full)!;
        while (!Directory.Exists(existing)) existing = Path.GetDirectoryName(existing)!;
        Probe(existing, folder);
        if (Directory.Exists(full)) Probe(full, folder);
        var free = new DriveInfo(existing).AvailableFreeSpace;
        if (free < bytesNeeded)
            throw new IOException($"--output {folder}: {Mb(free)} free on that disk, but the model and a checkpoint need about {Mb(bytesNeeded)}; free space or choose another --output.");
    }

    /// <summary>Bytes the final model and a checkpoint (model, optimizer moments: ~2.4× the model) need, for <paramref name="parameters"/> float32 parameters.</summary>
    public static long BytesNeeded(long parameters) => (long)(parameters * 4 * 3.5) + (1 << 20);

    /// <summary>Deletes temporary files and folders of runs whose process is gone; returns how many.</summary>
    public static int CleanStale(string folder)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        var parent = Path.GetDirectoryName(full)!;
        var removed = 0;
        if (Directory.Exists(full))
            foreach (var file in Directory.EnumerateFiles(full, ".*.tmp"))
                if (Pid(Path.GetFileName(file), fromEnd: 2) is { } pid && !RunLock.IsRunning(pid)) { File.Delete(file); removed++; }
        if (Directory.Exists(parent))
            foreach (var dir in Directory.EnumerateDirectories(parent, $".{Path.GetFileName(full)}.*"))
                if ((dir.EndsWith(".saving", StringComparison.Ordinal) || dir.EndsWith(".old", StringComparison.Ordinal))
                    && Pid(Path.GetFileName(dir), fromEnd: 1) is { } pid && !RunLock.IsRunning(pid)) { Directory.Delete(dir, true); removed++; }
        return removed;
    }

    /// <summary>
    /// Writes a new model folder through <paramref name="write"/> into a temporary sibling, then puts it in the place of
    /// <paramref name="folder"/> (whose old content — a previous model, the checkpoint — is deleted after the swap).
    /// </summary>
    public static void Replace(string folder, Action<string> write)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        var parent = Path.GetDirectoryName(full)!;
        var name = Path.GetFileName(full);
        var temp = Path.Combine(parent, $".{name}.{Environment.ProcessId}.saving");
        var old = Path.Combine(parent, $".{name}.{Environment.ProcessId}.old");
        if (Directory.Exists(temp)) Directory.Delete(temp, true);
        Directory.CreateDirectory(temp);
        try
        {
            write(temp);
        }
        catch
        {
            Directory.Delete(temp, true);
            throw;
        }
        if (!Directory.Exists(full))
        {
            Directory.Move(temp, full);
            return;
        }
        Directory.Move(full, old);
        try
        {
            Directory.Move(temp, full);
        }
        catch
        {
            Directory.Move(old, full);
            Directory.Delete(temp, true);
            throw;
        }
        Directory.Delete(old, true);
    }

    private static bool IsTemporary(string name) => name.StartsWith('.') && name.EndsWith(".tmp", StringComparison.Ordinal);

    // Names are ".file.PID.GUID.tmp" (AtomicFile) and ".folder.PID.saving": the pid is the field fromEnd dots before the end.
    private static int? Pid(string name, int fromEnd)
    {
        var parts = name.Split('.');
        return parts.Length > fromEnd + 1 && int.TryParse(parts[^(fromEnd + 1)], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
    }

    private static void Probe(string directory, string folder)
    {
        var probe = Path.Combine(directory, $".lorenza-write-test.{Environment.ProcessId}");
        try
        {
            File.WriteAllBytes(probe, [1]);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UnauthorizedAccessException($"--output {folder}: cannot write to {directory} ({e.Message.TrimEnd('.')}); choose another --output or make it writable.");
        }
    }

    private static string Mb(long bytes) => $"{bytes / 1048576.0:F0} MB";
}
