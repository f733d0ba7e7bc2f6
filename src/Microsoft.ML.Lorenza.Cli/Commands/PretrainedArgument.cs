using Microsoft.ML.Lorenza.Pretrained;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Cli.Commands;

/// <summary>
/// `--model minilm` (the default) or `--model org/name[@revision]`: the pretrained model is resolved once, before training
/// starts, with the download's progress on stderr (a bar on a terminal, plain lines otherwise); the trainer then uses
/// that resolution. A built-in model that cannot be had is refused naming the ways to train without it.
/// </summary>
internal static class PretrainedArgument
{
    public static void Prepare(TrainingOptions options)
    {
        if (options.Model.Pretrained is not { } reference) return;
        var source = PretrainedModels.Classify(reference);
        if (source == PretrainedSource.BuiltIn && !PretrainedModels.IsCached(reference))
            Console.Error.WriteLine($"fetching the pretrained model '{reference}' into {PretrainedModels.FolderOf(reference)} (once; later runs use the cache; --preset trains from scratch instead)");
        var resolved = options.Model.ResolvePretrained(FetchOptions());
        if (source != PretrainedSource.Folder) Console.WriteLine($"pretrained model '{reference}': {resolved!.Folder}" + (source == PretrainedSource.Hub ? $" (commit {resolved.Commit})" : ""));
    }

    /// <summary>Progress and messages on stderr (stdout is for results); a progress bar when stderr is a terminal.</summary>
    public static PretrainedModelOptions FetchOptions(string? cacheDirectory = null, string? nugetSource = null) => new()
    {
        CacheDirectory = cacheDirectory,
        NuGetSource = nugetSource,
        Log = DownloadProgressBar.Log,
        Progress = Console.IsErrorRedirected ? null : new DownloadProgressBar(),
    };
}
