using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Training;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Cli.Commands;

/// <summary>What `train` needs to know about a run before and after it: its size on disk, and how to resume it.</summary>
internal static class TrainingRun
{
    /// <summary>Parameters of the model the options will train: the pretrained weights' size, or a preset's count.</summary>
    public static long EstimateParameters(TrainingOptions options)
    {
        if (options.Model.ResolvePretrained() is { } pretrained)
        {
            try { return ModelFolder.WeightFiles(pretrained.Folder).Sum(f => new FileInfo(f).Length) / 4; }
            catch (Exception e) when (e is IOException or InvalidDataException) { return 0; } // the trainer says what is wrong with the folder
        }
        var c = RobertaConfig.Preset(options.Model.Preset ?? ModelPreset.Tiny, options.Model.TokenizerMerges + 261, 2, options.Data.MaxSequenceLength);
        long h = c.HiddenSize, i = c.IntermediateSize;
        var embeddings = (c.VocabSize + c.MaxPositionEmbeddings + c.TypeVocabSize + 2) * h;
        var layer = 4 * (h * h + h) + 2 * h * i + i + h + 4 * h;
        return embeddings + c.NumHiddenLayers * layer + h * h + h + 2 * h + 2;
    }

    /// <summary>This process's command line with --resume, for the user to paste.</summary>
    public static string ResumeCommand()
    {
        var args = Environment.GetCommandLineArgs().Skip(1).ToList();
        if (!args.Contains("--resume")) args.Add("--resume");
        return "lorenza " + string.Join(' ', args.Select(Quote));
    }

    private static string Quote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsLetterOrDigit(c) || "-_./:=,+@%".Contains(c)) ? arg : "'" + arg.Replace("'", "'\\''") + "'";
}
