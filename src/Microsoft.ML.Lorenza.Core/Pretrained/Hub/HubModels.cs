using System.Diagnostics;

namespace Microsoft.ML.Lorenza.Pretrained.Hub;

/// <summary>What getting a hub model did: its snapshot folder and commit, and what was transferred.</summary>
internal sealed record HubResult(string Folder, string Commit, IReadOnlyList<string> Files)
{
    public int FilesDownloaded { get; init; }
    public long BytesDownloaded { get; init; }
    public TimeSpan DownloadTime { get; init; }
    public int Resumes { get; init; }
    public int Restarts { get; init; }
    public int VerifiedSha256 { get; init; }

    /// <summary>Why the cache was used without asking the hub, when it was (offline, unreachable); null when the hub answered.</summary>
    public string? CacheOnly { get; init; }
}

/// <summary>
/// A model from the Hugging Face Hub, into the cache Python's huggingface_hub uses: the files <see cref="HubModelFiles"/>
/// names, at the commit the revision points to, as the snapshot folder transformers would load. Offline
/// (HF_HUB_OFFLINE) nothing connects and the cache must hold the model; when the hub cannot be reached the cache is used
/// if it holds the revision, and one line says so.
/// </summary>
internal static class HubModels
{
    public static HubResult Get(HubModelId id, PretrainedModelOptions options) => Get(id, options, HubSettings.From(options));

    public static HubResult Get(HubModelId id, PretrainedModelOptions options, HubSettings settings)
    {
        var cache = new HubCache(settings.CacheRoot, id);
        if (settings.Offline)
            return FromCache(id, cache, $"{HubSettings.OfflineVariable} is set", fail: what => HubErrors.OfflineMissing(id, cache, what));

        // A commit never moves: when the cache holds everything for it, no request is needed (as huggingface_hub).
        if (id.IsCommit && TryFromCache(id, cache) is { } pinned) return pinned with { CacheOnly = "the revision is a commit the cache holds" };

        try
        {
            return Download(id, cache, settings, options);
        }
        catch (HubUnreachableException e)
        {
            var reason = e.Message;
            var cached = TryFromCache(id, cache, out var lacks);
            if (cached is null) throw HubErrors.Unreachable(id, settings, reason, lacks);
            options.Log?.Invoke(HubErrors.Clean($"could not reach {settings.Endpoint.GetLeftPart(UriPartial.Authority)} ({reason}); using the cached {id} " +
                                                $"at commit {cached.Commit[..12]} from {cache.RepoFolder} (set {HubSettings.OfflineVariable}=1 to skip the hub)", settings));
            return cached with { CacheOnly = reason };
        }
        catch (HubAccessDeniedException e)
        {
            // Not found, private or gated to this process (an expired token, none set here): a copy in the cache still serves.
            var cached = TryFromCache(id, cache) ?? throw e.Error;
            options.Log?.Invoke($"{e.Error.Message.TrimEnd('.')} — using the cached {id} at commit {cached.Commit[..12]} from {cache.RepoFolder}.");
            return cached with { CacheOnly = e.Error.Message };
        }
    }

    private static HubResult? TryFromCache(HubModelId id, HubCache cache) => TryFromCache(id, cache, out _);

    private static HubResult? TryFromCache(HubModelId id, HubCache cache, out string lacks)
    {
        string? problem = null;
        try
        {
            lacks = "";
            return FromCache(id, cache, "", fail: what => { problem = what; return new PretrainedModelException(what); });
        }
        catch (PretrainedModelException e)
        {
            lacks = problem ?? e.Message;
            return null;
        }
    }

    private static HubResult FromCache(HubModelId id, HubCache cache, string why, Func<string, Exception> fail)
    {
        var commit = cache.CommitOf(id.Revision) ?? throw fail($"does not know which commit '{id.Revision}' is (no {Path.Combine(id.CacheFolderName, "refs", id.Revision)})");
        var files = HubModelFiles.Plan(new CachedFiles(id, cache, commit, fail));
        return new HubResult(cache.SnapshotFolder(commit), commit, files) { CacheOnly = why };
    }

    private static HubResult Download(HubModelId id, HubCache cache, HubSettings settings, PretrainedModelOptions options)
    {
        using var client = new HubClient(settings);
        var remote = new RemoteFiles(id, cache, client, settings, options);
        var files = HubModelFiles.Plan(remote);
        return remote.Materialize(files);
    }

    /// <summary>The cache alone: a file is there when the snapshot has it.</summary>
    private sealed class CachedFiles(HubModelId id, HubCache cache, string commit, Func<string, Exception> fail) : IRepoFiles
    {
        public HubModelId Id => id;
        public string Commit => commit;
        public bool Exists(string file) => cache.Has(commit, file);
        public string? Fetch(string file) => Exists(file) ? cache.PointerPath(commit, file) : null;

        public Exception Lacks(string file, string why) => cache.IsKnownMissing(commit, file)
            ? HubErrors.MissingFile(id, commit, file, why)
            : fail($"has no {file} (commit {commit[..12]})");

        public Exception LacksWeights() => WeightsKnownMissing() ? HubErrors.NoWeights(id, commit) : fail($"has none of its weight files (commit {commit[..12]})");

        private bool WeightsKnownMissing() => HubModelFiles.WeightCandidates.All(f => cache.IsKnownMissing(commit, f));
    }

    /// <summary>
    /// The hub: each file's metadata from a HEAD request (the first one, config.json's, fixes the commit; the others ask
    /// for that commit, so every file comes from the same one even if the branch moves meanwhile); config.json and
    /// shard indexes are downloaded when read, the rest together by <see cref="Materialize"/>.
    /// </summary>
    private sealed class RemoteFiles(HubModelId id, HubCache cache, HubClient client, HubSettings settings, PretrainedModelOptions options) : IRepoFiles
    {
        private readonly Dictionary<string, HubFileMetadata?> metadata = new(StringComparer.Ordinal);
        private string? commit;
        private int downloaded, resumes, restarts, verified;
        private long bytes;
        private TimeSpan time;

        public HubModelId Id => id;
        public string Commit => commit ?? throw new InvalidOperationException("config.json is asked for first");

        public bool Exists(string file) => Metadata(file) is not null;

        public string? Fetch(string file)
        {
            if (Metadata(file) is not { } meta) return null;
            EnsureBlob(meta, null);
            cache.Link(meta.Commit, file, meta.Etag);
            return cache.PointerPath(meta.Commit, file);
        }

        public Exception Lacks(string file, string why) => HubErrors.MissingFile(id, Commit, file, why);

        public Exception LacksWeights() => HubErrors.NoWeights(id, Commit);

        private HubFileMetadata? Metadata(string file)
        {
            if (metadata.TryGetValue(file, out var known)) return known;
            var meta = client.Head(id, commit ?? id.Revision, file, cache, options.CancellationToken);
            if (commit is null)
            {
                // The first answer fixes the commit (also a 404's X-Repo-Commit, recorded by Head).
                commit = meta?.Commit ?? cache.CommitOf(id.Revision)
                         ?? throw HubErrors.MissingFile(id, id.Revision, file, "every model has");
                cache.WriteRef(id.Revision, commit);
            }
            else if (meta is not null && meta.Commit != commit)
                throw new PretrainedModelException($"{id}: the hub answered for commit {meta.Commit} where {commit} was asked; try again.");
            return metadata[file] = meta;
        }

        /// <summary>Downloads every file's blob the cache lacks (free space checked first, progress reported), then links the snapshot.</summary>
        public HubResult Materialize(IReadOnlyList<string> files)
        {
            var metas = files.Select(f => metadata[f]!).ToList();
            var missing = metas.Where(m => !File.Exists(cache.BlobPath(m.Etag))).DistinctBy(m => m.Etag).ToList();
            if (missing.Count > 0)
            {
                var total = missing.Sum(m => m.Size);
                CacheFiles.CheckFreeSpace(cache.Root, total, $"{id} ({missing.Count} files)",
                    $"free space there or set {HubSettings.CacheVariable} to a folder on a larger disk");
                options.Log?.Invoke($"downloading {id} (commit {Commit[..12]}): {string.Join(", ", missing.Select(m => m.File))}, {CacheFiles.Megabytes(total)} from {settings.Endpoint.Host} into {cache.RepoFolder}");
                var meter = new ProgressMeter(id.ToString(), total, options.Progress, options.Log);
                foreach (var meta in missing) EnsureBlob(meta, meter);
                meter.Finish();
                var seconds = Math.Max(time.TotalSeconds, 1e-3);
                options.Log?.Invoke($"downloaded {Count(downloaded, "file")} of {id}, {CacheFiles.Megabytes(bytes)} in {seconds:F1} s ({bytes / seconds / 1e6:F1} MB/s)" +
                                    $"; SHA-256 checked for {Count(verified, "LFS file")}" + (resumes + restarts > 0 ? $"; {resumes} resumed with Range, {restarts} restarted from zero" : ""));
            }
            foreach (var meta in metas) cache.Link(meta.Commit, meta.File, meta.Etag);
            return new HubResult(cache.SnapshotFolder(Commit), Commit, files)
            {
                FilesDownloaded = downloaded, BytesDownloaded = bytes, DownloadTime = time, Resumes = resumes, Restarts = restarts, VerifiedSha256 = verified,
            };
        }

        // One blob, under its lock: another process (ours or Python's) downloading it meanwhile is waited for, and its blob used.
        private void EnsureBlob(HubFileMetadata meta, ProgressMeter? meter)
        {
            var blob = cache.BlobPath(meta.Etag);
            if (File.Exists(blob)) return;
            var ct = options.CancellationToken;
            var what = $"{meta.File} of {id}";
            string? temp = null;
            try
            {
                using var held = CacheFiles.Lock(cache.LockPath(meta.Etag), what, options.Log, ct);
                if (File.Exists(blob)) return;
                var blobs = Path.GetDirectoryName(blob)!;
                Directory.CreateDirectory(blobs);
                CacheFiles.RemoveAbandoned(blobs, meta.Etag);
                temp = CacheFiles.TemporaryBeside(blob);
                meter?.StartFile(meta.File);
                var clock = Stopwatch.StartNew();
                var result = client.Download(meta, temp, what, delta => meter?.Add(delta), options.Log, ct);
                if (meta.EtagIsSha256)
                {
                    if (!string.Equals(result.HashHex, meta.Etag, StringComparison.OrdinalIgnoreCase))
                        throw new PretrainedModelException($"{what} arrived corrupted: its SHA-256 is {result.HashHex[..16]}…, not its etag {meta.Etag[..16]}… " +
                                                           $"({result.Bytes:N0} bytes from {meta.Location.Host}); nothing was kept, run again (a proxy that rewrites downloads would cause this every time).");
                    verified++;
                }
                CacheFiles.MoveIntoPlace(temp, blob);
                (downloaded, bytes, time, resumes, restarts) = (downloaded + 1, bytes + result.Bytes, time + clock.Elapsed, resumes + result.Resumes, restarts + result.Restarts);
            }
            catch (HttpStatusError e)
            {
                throw HubErrors.Refused(id, Commit, meta.File, e, settings);
            }
            catch (TransferFailedException e)
            {
                throw new PretrainedModelException(HubErrors.Clean($"{e.Message}; nothing was kept: run again to retry, or check the network (HTTPS_PROXY) and {HubSettings.DownloadTimeoutVariable}.", settings), e);
            }
            catch (Exception e) when (e is UnauthorizedAccessException || (e is IOException && e is not PretrainedModelException))
            {
                throw new PretrainedModelException($"cannot write the hub cache {cache.Root} ({e.Message.Split('\n')[0].TrimEnd('.')}); free disk space or set {HubSettings.CacheVariable} to a writable folder.", e);
            }
            finally
            {
                if (temp is not null && File.Exists(temp)) CacheFiles.TryDelete(temp);
            }
        }
    }

    private static string Count(int n, string what) => n == 1 ? $"1 {what}" : $"{n} {what}s";
}
