using Microsoft.ML.Lorenza.Pretrained;
using Microsoft.ML.Lorenza.Training;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Cli.Commands;

/// <summary>`--model minilm` (the default): a pretrained model's name is fetched (with progress on stderr) before training starts.</summary>
internal static class PretrainedArgument
{
    public static void Prepare(TrainingOptions options)
    {
        if (options.Model.Pretrained is not { } name || !PretrainedModels.IsName(name)) return;
        if (!PretrainedModels.IsCached(name))
            Console.Error.WriteLine($"fetching the pretrained model '{name}' into {PretrainedModels.FolderOf(name)} (once; later runs use the cache; --preset trains from scratch instead)");
        string folder;
        try { folder = PretrainedModels.Get(name, new PretrainedModelOptions { Log = Console.Error.WriteLine }); }
        catch (PretrainedModelException e) { throw PretrainedModels.WithWaysOut(e); }
        Console.WriteLine($"pretrained model '{name}': {folder}");
    }
}
