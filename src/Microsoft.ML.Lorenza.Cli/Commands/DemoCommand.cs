using System.CommandLine;
using Microsoft.ML.Lorenza.Training;
using Microsoft.ML.Lorenza.Datasets;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Cli.Commands;

/// <summary>
/// `lorenza demo`: fine-tunes the pretrained MiniLM with LORENZA on the sample reviews the project ships
/// (SampleData/reviews.tsv, generated for the project); `--preset tiny` trains a tiny RoBERTa from scratch instead.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--output", "-o") { Description = "model folder to write", DefaultValueFactory = _ => "lorenza-demo-model" };
        // Fine-tuning MiniLM at the engine's defaults. From scratch (--preset), a tiny model needs more epochs and a
        // larger rate (ScratchDefaults). ~70 steps an epoch, so the subspace is refreshed every 50 steps.
        var defaults = new TrainingOptions { Optimizer = { RefreshInterval = 50 } };
        var shared = new TrainingCommandLine("demo", defaults);
        var command = new Command("demo", "Fine-tune the pretrained MiniLM into a sentiment classifier on the bundled sample data (--preset tiny: a tiny RoBERTa from scratch).");
        command.Options.Add(output);
        shared.AddTo(command);
        command.SetAction(r => CommandErrors.Run(() =>
        {
            var path = Path.Combine(AppContext.BaseDirectory, "SampleData", "reviews.tsv");
            var data = TextDataset.Load(path, new ColumnSpec("text", "label"));
            var options = shared.Read(r);
            if (options.Model.FromScratch) ScratchDefaults(r, shared, options);
            var majority = data.Examples.GroupBy(e => e.Label).Max(g => g.Count()) / (double)data.Examples.Count;
            var status = TrainCommand.TrainAndSave(data, null, options, r.GetValue(output)!);
            Console.WriteLine($"majority-class baseline: {majority:P1}");
            return status;
        }));
        return command;
    }

    /// <summary>From scratch the tiny model needs a larger rate and more epochs than fine-tuning (unless given).</summary>
    private static void ScratchDefaults(ParseResult r, TrainingCommandLine shared, TrainingOptions options)
    {
        options.Optimizer.LearningRate ??= 3e-3;
        if (r.GetResult(shared.OptionFor(nameof(LoopOptions.Epochs))) is null or { Implicit: true }) options.Loop.Epochs = 10;
    }
}
