namespace Microsoft.ML.Lorenza.Pretrained.Hub;

/// <summary>One snapshot of a model in the hub cache.</summary>
/// <param name="Id">org/name.</param>
/// <param name="Commit">The snapshot's commit.</param>
/// <param name="Revisions">The branches and tags (refs) that point to it.</param>
/// <param name="Files">The files the snapshot holds.</param>
/// <param name="Bytes">Their size on disk (a blob two snapshots share counts in each).</param>
/// <param name="Folder">The snapshot folder, which loads as a model folder.</param>
public sealed record CachedHubModel(string Id, string Commit, IReadOnlyList<string> Revisions, int Files, long Bytes, string Folder);

/// <summary>Lists the models of a hub cache: models--org--name folders, their snapshots and refs.</summary>
internal static class HubCacheScan
{
    public static IReadOnlyList<CachedHubModel> Scan(string root)
    {
        var found = new List<CachedHubModel>();
        if (!Directory.Exists(root)) return found;
        foreach (var repo in Directory.EnumerateDirectories(root, "models--*").Order(StringComparer.Ordinal))
        {
            var parts = Path.GetFileName(repo)["models--".Length..].Split("--");
            if (parts.Length != 2) continue;
            var id = $"{parts[0]}/{parts[1]}";
            var refs = Refs(Path.Combine(repo, "refs"));
            var snapshots = Path.Combine(repo, "snapshots");
            if (!Directory.Exists(snapshots)) continue;
            foreach (var snapshot in Directory.EnumerateDirectories(snapshots).Order(StringComparer.Ordinal))
            {
                var commit = Path.GetFileName(snapshot);
                if (!HubModelId.IsCommitHash(commit)) continue;
                long bytes = 0;
                var files = 0;
                foreach (var file in Directory.EnumerateFiles(snapshot, "*", SearchOption.AllDirectories))
                {
                    try
                    {
                        var info = new FileInfo(file);
                        var target = info.LinkTarget is null ? info : info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo;
                        if (target is not { Exists: true }) continue; // a link whose blob is gone
                        bytes += target.Length;
                        files++;
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
                }
                var revisions = refs.Where(r => r.Commit == commit).Select(r => r.Name).ToList();
                found.Add(new CachedHubModel(id, commit, revisions, files, bytes, snapshot));
            }
        }
        return found;
    }

    private static List<(string Name, string Commit)> Refs(string folder)
    {
        var refs = new List<(string, string)>();
        if (!Directory.Exists(folder)) return refs;
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            if (Path.GetFileName(file).StartsWith('.')) continue; // a ref being written
            try
            {
                var commit = File.ReadAllText(file).Trim();
                if (HubModelId.IsCommitHash(commit)) refs.Add((Path.GetRelativePath(folder, file).Replace('\\', '/'), commit));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return refs;
    }
}
