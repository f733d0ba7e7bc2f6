using System.CommandLine;
using Microsoft.ML.Lorenza.Training;
using Microsoft.ML.Lorenza.Datasets;
using Microsoft.ML.Lorenza.Inference;

namespace Microsoft.ML.Lorenza.Cli.Commands;

/// <summary>`lorenza evaluate`: metrics of a saved model on a labelled file.</summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var dataset = new Argument<string>("dataset") { Description = "labelled TSV or CSV file" };
        var model = new Option<string>("--model", "-m") { Description = "model folder written by `lorenza train`", Required = true };
        var device = TrainingCommandLine.DeviceOption();
        var (precision, readPrecision) = TrainingCommandLine.PrecisionOption();
        var command = new Command("evaluate", "Accuracy, macro-F1, per-class metrics, log-loss and confusion matrix of a saved model.");
        command.Arguments.Add(dataset);
        foreach (var option in new Option[] { model, device, precision, TrainCommand.TextColumn, TrainCommand.Text2Column, TrainCommand.LabelColumn, TrainCommand.HasHeader, TrainCommand.Separator })
            command.Options.Add(option);
        command.SetAction(r => CommandErrors.Run(() =>
        {
            using var classifier = TextClassifier.Load(r.GetValue(model)!, r.GetValue(device).Resolve(), readPrecision(r));
            var data = TrainCommand.Load(r.GetValue(dataset)!, TrainCommand.Columns(r));
            var labels = new LabelMap(classifier.Labels).IdsOf(data);
            var metrics = TextClassifierTrainer.Evaluate(classifier, data.Examples, labels);
            Console.WriteLine($"{data.Examples.Count} examples from {data.Source}" + (data.SkippedEmpty > 0 ? $" ({data.SkippedEmpty} empty skipped)" : "") +
                              $"; device {Runtime.Devices.Describe(classifier.Device)}, compute {classifier.Compute}");
            Console.WriteLine(metrics.Format());
            return 0;
        }));
        return command;
    }
}
