namespace Microsoft.ML.Lorenza.Pretrained.Hub;

/// <summary>
/// One repository's part of the hub cache, in the layout Python's huggingface_hub uses, so each reads what the other
/// wrote:
/// <code>
/// &lt;root&gt;/models--org--name/blobs/&lt;etag&gt;                 file contents, named by their etag
///                           snapshots/&lt;commit&gt;/&lt;file&gt;      relative symlinks to the blobs (copies where links cannot be made)
///                           refs/&lt;revision&gt;                 the commit a branch or tag pointed to (no newline)
///                           .no_exist/&lt;commit&gt;/&lt;file&gt;      empty: the file is known to be absent at that commit
/// &lt;root&gt;/.locks/models--org--name/&lt;etag&gt;.lock           taken while a blob is written
/// </code>
/// </summary>
internal sealed class HubCache(string root, HubModelId id)
{
    public string Root { get; } = root;
    public HubModelId Id { get; } = id;
    public string RepoFolder { get; } = Path.Combine(root, id.CacheFolderName);

    public string BlobPath(string etag) => Path.Combine(RepoFolder, "blobs", CheckedEtag(etag));

    public string LockPath(string etag) => Path.Combine(Root, ".locks", Id.CacheFolderName, CheckedEtag(etag) + ".lock");

    public string SnapshotFolder(string commit) => Path.Combine(RepoFolder, "snapshots", CheckedCommit(commit));

    /// <summary>snapshots/&lt;commit&gt;/&lt;file&gt;, refused (one line) when the file name would leave the snapshot folder.</summary>
    public string PointerPath(string commit, string file) => Inside(SnapshotFolder(commit), file);

    public string MissingMarker(string commit, string file) => Inside(Path.Combine(RepoFolder, ".no_exist", CheckedCommit(commit)), file);

    /// <summary>
    /// Refuses a repository file name that is not a plain relative path below the snapshot folder: empty, absolute,
    /// with "..", ".", empty segments, backslashes or control characters.
    /// </summary>
    public static void CheckFileName(string file, string where)
    {
        if (file.Length == 0 || file.Length > 1024 || file.StartsWith('/') || Path.IsPathRooted(file) || file.Contains('\\')
            || file.Any(char.IsControl) || file.Split('/').Any(part => part is "" or "." or ".."))
            throw new PretrainedModelException($"{where} names the file '{OneLine.Printable(file)}', which would be written outside the model's snapshot folder; refusing it (the repository is malformed or not what it claims to be).");
    }

    /// <summary>The commit a revision is known to point to: the revision itself when it is a commit, else refs/&lt;revision&gt;; null when unknown.</summary>
    public string? CommitOf(string revision)
    {
        if (HubModelId.IsCommitHash(revision)) return revision.ToLowerInvariant();
        var path = Path.Combine(RepoFolder, "refs", revision);
        try
        {
            var commit = File.Exists(path) ? File.ReadAllText(path).Trim() : null;
            return HubModelId.IsCommitHash(commit) ? commit : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>Records that <paramref name="revision"/> points to <paramref name="commit"/> (written whole, only when it changed; as huggingface_hub, without a newline).</summary>
    public void WriteRef(string revision, string commit)
    {
        if (HubModelId.IsCommitHash(revision) || CommitOf(revision) == commit) return;
        var path = Path.Combine(RepoFolder, "refs", revision);
        var temp = CacheFiles.TemporaryBeside(path);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(temp, commit);
            CacheFiles.MoveIntoPlace(temp, path);
        }
        finally
        {
            if (File.Exists(temp)) CacheFiles.TryDelete(temp);
        }
    }

    /// <summary>Whether the snapshot of <paramref name="commit"/> holds <paramref name="file"/> (a link whose blob is there, or a copy).</summary>
    public bool Has(string commit, string file) => File.Exists(PointerPath(commit, file));

    public bool IsKnownMissing(string commit, string file) => File.Exists(MissingMarker(commit, file));

    public void MarkMissing(string commit, string file)
    {
        var marker = MissingMarker(commit, file);
        if (File.Exists(marker)) return;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(marker)!);
            using (File.Open(marker, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // a read-only cache: only a shortcut is lost
    }

    /// <summary>
    /// Puts snapshots/&lt;commit&gt;/&lt;file&gt; in place as a relative symlink to the blob (../../blobs/&lt;etag&gt;, deeper for
    /// files in subfolders), or as a copy of the blob where symlinks cannot be made; the link or copy is made under a
    /// temporary name and renamed, so a reader never sees a half-made pointer.
    /// </summary>
    public void Link(string commit, string file, string etag)
    {
        var pointer = PointerPath(commit, file);
        var blob = BlobPath(etag);
        Directory.CreateDirectory(Path.GetDirectoryName(pointer)!);
        var relative = Path.GetRelativePath(Path.GetDirectoryName(pointer)!, blob);
        var present = new FileInfo(pointer);
        if (present.LinkTarget is { } existing ? existing == relative : present.Exists && present.Length == new FileInfo(blob).Length)
            return; // already linked (by us or by huggingface_hub), or a copy where links cannot be made

        var temp = CacheFiles.TemporaryBeside(pointer);
        try
        {
            try { File.CreateSymbolicLink(temp, relative); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
            {
                File.Copy(blob, temp); // Windows without the right to make links: as huggingface_hub, a copy
            }
            CacheFiles.MoveIntoPlace(temp, pointer);
        }
        finally
        {
            if (File.Exists(temp) || new FileInfo(temp).LinkTarget is not null) CacheFiles.TryDelete(temp);
        }
    }

    private static string Inside(string folder, string file)
    {
        CheckFileName(file, "the repository");
        var full = Path.GetFullPath(Path.Combine(folder, file.Replace('/', Path.DirectorySeparatorChar)));
        if (!full.StartsWith(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new PretrainedModelException($"the file '{OneLine.Printable(file)}' would be written outside {folder}; refusing it.");
        return full;
    }

    /// <summary>An etag as a blob's file name: letters, digits, '-' and '_' (a git blob hash or a SHA-256 on the hub), else refused (one line).</summary>
    public static string CheckedEtag(string etag) =>
        etag.Length is > 0 and <= 128 && etag.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            ? etag
            : throw new PretrainedModelException($"the hub sent the etag '{OneLine.Printable(etag)}', which is not a plain file name; refusing it (is HF_ENDPOINT a Hugging Face Hub?).");

    /// <summary>A commit as a snapshot folder's name: 40 hexadecimal digits, else refused (one line).</summary>
    public static string CheckedCommit(string commit) =>
        HubModelId.IsCommitHash(commit) ? commit
            : throw new PretrainedModelException($"the hub sent the commit '{OneLine.Printable(commit)}', which is not 40 hexadecimal digits; refusing it (is HF_ENDPOINT a Hugging Face Hub?).");
}
