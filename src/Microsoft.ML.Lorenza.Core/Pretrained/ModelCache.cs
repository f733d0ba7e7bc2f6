using System.Diagnostics;
using System.Text.Json;

namespace Microsoft.ML.Lorenza.Pretrained;

/// <summary>
/// The private cache of converted models, &lt;root&gt;/pretrained/&lt;name&gt;-&lt;version&gt;. A folder is built in a
/// temporary sibling and renamed into place only when complete, with a marker file last (the pinned package hash
/// and every file's size and SHA-256), so a reader sees a whole folder or none; a failure or cancellation deletes
/// the temporary folder. Calls for the same model take turns through a lock file beside it (<see cref="CacheFiles"/>,
/// the module the hub cache uses too), in one process and across processes.
/// </summary>
internal static class ModelCache
{
    public const string CacheVariable = "LORENZA_CACHE";
    public const string MarkerFile = "lorenza-pretrained.json";

    /// <summary>The cache root: the option, else $LORENZA_CACHE, else $XDG_CACHE_HOME/lorenza, else ~/.cache/lorenza (%LOCALAPPDATA%\lorenza on Windows).</summary>
    public static string Root(PretrainedModelOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.CacheDirectory)) return Path.GetFullPath(options.CacheDirectory);
        if (Environment.GetEnvironmentVariable(CacheVariable) is { Length: > 0 } fromEnv) return Path.GetFullPath(fromEnv);
        if (OperatingSystem.IsWindows()) return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "lorenza");
        if (Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg && Path.IsPathRooted(xdg)) return Path.Combine(xdg, "lorenza");
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "lorenza");
    }

    public static string FolderOf(PretrainedModelInfo info, PretrainedModelOptions options) =>
        Path.Combine(Root(options), "pretrained", info.FolderName);

    /// <summary>Whether <paramref name="folder"/> holds a finished conversion of <paramref name="info"/>'s package: the marker names it and every file has its recorded size.</summary>
    public static bool IsComplete(string folder, PretrainedModelInfo info)
    {
        try
        {
            using var marker = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, MarkerFile)));
            var root = marker.RootElement;
            if (root.GetProperty("package_sha512").GetString() != info.PackageSha512) return false;
            var files = root.GetProperty("files").EnumerateObject().ToList();
            return files.Count == PackageConversion.Files.Count
                && files.All(f => new FileInfo(Path.Combine(folder, f.Name)) is { Exists: true } file && file.Length == f.Value.GetProperty("bytes").GetInt64());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The lock file taken while a model is converted (kept, as every lock file of the caches: see <see cref="CacheFiles.Lock"/>).</summary>
    public static string LockPathOf(string folder) => Path.Combine(Path.GetDirectoryName(folder)!, $".{Path.GetFileName(folder)}.lock");

    public static string Get(PretrainedModelInfo info, PretrainedModelOptions options)
    {
        var folder = FolderOf(info, options);
        if (IsComplete(folder, info)) return folder;
        var parent = Path.GetDirectoryName(folder)!;
        string temp;
        IDisposable held;
        try
        {
            Directory.CreateDirectory(parent);
            // Calls for the same model take turns, in this process and across processes; the others then find the folder.
            held = CacheFiles.Lock(LockPathOf(folder), $"the conversion of '{info.Name}'", options.Log, options.CancellationToken);
        }
        catch (Exception e) when (e is UnauthorizedAccessException || (e is IOException && e is not PretrainedModelException)) { throw CacheError(parent, e); }
        using (held)
        {
            if (IsComplete(folder, info)) return folder;
            temp = CacheFiles.TemporaryBeside(folder);
            try
            {
                CacheFiles.RemoveAbandoned(parent, info.FolderName);
                if (Directory.Exists(folder))
                {
                    options.Log?.Invoke($"{folder} is incomplete: converting again");
                    DeleteAtomically(folder);
                }
                Directory.CreateDirectory(temp);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw CacheError(parent, e); }

            try
            {
                var clock = Stopwatch.StartNew();
                var package = NuGetPackageFetcher.Fetch(info, options, temp);
                PackageConversion.Convert(info, package, temp, options);
                if (package.Path.StartsWith(temp, StringComparison.Ordinal)) File.Delete(package.Path);
                WriteMarker(temp, info);
                options.CancellationToken.ThrowIfCancellationRequested();
                Directory.Move(temp, folder);
                options.Log?.Invoke($"wrote {folder} ({NuGetPackageFetcher.Megabytes(SizeOf(folder))}) in {clock.Elapsed.TotalSeconds:F1} s");
                return folder;
            }
            catch (Exception e)
            {
                CacheFiles.TryDelete(temp);
                if (e is InvalidDataException) throw new PretrainedModelException(e.Message, e);
                if (e is UnauthorizedAccessException || (e is IOException && e is not PretrainedModelException)) throw CacheError(parent, e);
                throw;
            }
        }
    }

    public static long SizeOf(string folder) => new DirectoryInfo(folder).EnumerateFiles().Sum(f => f.Length);

    internal static PretrainedModelException CacheError(string path, Exception e) =>
        new($"cannot write the pretrained model cache {path} ({e.Message.Split('\n')[0].TrimEnd('.')}); free disk space or set {CacheVariable} to a writable folder.", e);

    private static void WriteMarker(string folder, PretrainedModelInfo info)
    {
        using var stream = File.Create(Path.Combine(folder, MarkerFile));
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("model", info.Name);
        w.WriteString("package", info.PackageId);
        w.WriteString("version", info.PackageVersion);
        w.WriteString("package_sha512", info.PackageSha512);
        w.WriteStartObject("files");
        foreach (var file in PackageConversion.Files)
        {
            var path = Path.Combine(folder, file);
            using var content = File.OpenRead(path);
            w.WriteStartObject(file);
            w.WriteNumber("bytes", content.Length);
            w.WriteString("sha256", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content)));
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    // A rename is atomic: readers never see a half-deleted folder, and the renamed one is cleaned up like an abandoned temporary.
    private static void DeleteAtomically(string folder)
    {
        var aside = CacheFiles.TemporaryBeside(folder);
        try { Directory.Move(folder, aside); }
        catch (DirectoryNotFoundException) { return; }
        CacheFiles.TryDelete(aside);
    }
}
