using System.CommandLine;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Training;
using Microsoft.ML.Lorenza.Datasets;
using Microsoft.ML.Lorenza.Plotting;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Cli.Commands;

/// <summary>`lorenza train`: fine-tune a classifier on a TSV/CSV file and save it as a model folder.</summary>
internal static class TrainCommand
{
    public static readonly Option<string> TextColumn = new("--text-col") { Description = "text column (name or 0-based index)", DefaultValueFactory = _ => "text" };
    public static readonly Option<string?> Text2Column = new("--text2-col") { Description = "second text column, for sentence pairs" };
    public static readonly Option<string> LabelColumn = new("--label-col") { Description = "label column (name or 0-based index)", DefaultValueFactory = _ => "label" };
    public static readonly Option<bool?> HasHeader = new("--has-header") { Description = "whether the first line is a header (default: detected)" };
    public static readonly Option<string?> Separator = new("--separator") { Description = "field separator: tab, comma, semicolon, pipe (default: detected)" };
    public static readonly Option<string?> WeightColumn = new("--weight-col") { Description = "column of example weights (name or 0-based index): numbers >= 0 that scale each row's training loss (default: all 1; --validation's are not used)" };

    public static Command Create()
    {
        var dataset = new Argument<string>("dataset") { Description = "training data: a TSV or CSV file" };
        var validation = new Option<string?>("--validation") { Description = "a validation file with the same columns (default: hold out --validation-fraction)" };
        var output = new Option<string>("--output", "-o") { Description = "model folder to write", DefaultValueFactory = _ => "lorenza-model" };
        var keepCheckpoint = new Option<bool>("--keep-checkpoint") { Description = "keep <output>/checkpoint.safetensors in the finished model folder (default: deleted when training ends)" };
        var shared = new TrainingCommandLine("train");
        var command = new Command("train", "Fine-tune a RoBERTa or BERT text classifier with LORENZA (or another optimizer) and save it.");
        command.Arguments.Add(dataset);
        foreach (var option in new Option[] { validation, output, keepCheckpoint, TextColumn, Text2Column, LabelColumn, WeightColumn, HasHeader, Separator }) command.Options.Add(option);
        shared.AddTo(command);
        command.SetAction(r => CommandErrors.Run(() =>
        {
            var options = shared.Read(r);
            options.Loop.CheckpointDirectory = r.GetValue(output); // also where Ctrl+C saves the run
            options.Validate(); // bad option values fail before the data is read
            var columns = Columns(r);
            var train = Load(r.GetValue(dataset)!, columns with { Weight = r.GetValue(WeightColumn) });
            var valid = r.GetValue(validation) is { } v ? Load(v, columns) : null; // evaluated unweighted: no weight column needed
            return TrainAndSave(train, valid, options, r.GetValue(output)!, r.GetValue(keepCheckpoint), r.GetValue(WeightColumn));
        }));
        return command;
    }

    /// <summary>Loads a data file and prints the decisions made reading it (e.g. header or not).</summary>
    public static TextDataset Load(string path, ColumnSpec columns)
    {
        var data = TextDataset.Load(path, columns);
        foreach (var note in data.Notes) Console.WriteLine(note);
        return data;
    }

    public static ColumnSpec Columns(ParseResult r) => new(r.GetValue(TextColumn)!, r.GetValue(LabelColumn)!, r.GetValue(Text2Column), r.GetValue(HasHeader),
        r.GetValue(Separator) switch
        {
            null => null,
            "tab" or "\\t" => '\t',
            "comma" or "," => ',',
            "semicolon" or ";" => ';',
            "pipe" or "|" => '|',
            var s when s.Length == 1 => s[0],
            var s => throw new ArgumentException($"--separator '{s}' is not one character; use tab, comma, semicolon or pipe."),
        });

    /// <summary>Trains, prints the metrics, writes the model folder and its learning curves.</summary>
    public static int TrainAndSave(TextDataset train, TextDataset? validation, TrainingOptions options, string output, bool keepCheckpoint = false, string? weightColumn = null)
    {
        PretrainedArgument.Prepare(options);
        OutputFolder.Check(output, OutputFolder.BytesNeeded(TrainingRun.EstimateParameters(options)));
        using var runLock = RunLock.Acquire(output);
        if (OutputFolder.CleanStale(output) is > 0 and var stale)
            Console.WriteLine($"removed {stale} temporary file(s) left in {output} by an interrupted run");
        Console.WriteLine($"training on {train.Examples.Count} examples from {train.Source}" +
                          (train.SkippedEmpty > 0 ? $" ({train.SkippedEmpty} rows with empty text skipped)" : "") +
                          $"; optimizer {options.Optimizer.Algorithm.Name}, {options.DescribeLearningRate()}, device {Runtime.Devices.Describe(options.Compute.Device.Resolve())}, compute {options.Compute.Resolve(options.Compute.Device.Resolve())}" +
                          (options.Loop.Resume ? $"; resuming from {Path.Combine(output, TrainingCheckpoint.FileName)}" : ""));
        if (TrainingWeights.Describe(options.Data.ClassWeights, weightColumn is null ? null : $"column '{weightColumn}'") is { } weighting) Console.WriteLine(weighting);
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += onCancel;
        try
        {
            var (classifier, report) = TextClassifierTrainer.Train(train, validation, options, new ProgressPrinter(), cancel.Token);
            using (classifier)
            {
                foreach (var e in report.Epochs)
                    Console.WriteLine($"epoch {e.Epoch}: train loss {e.TrainLoss:F4}  train acc {e.TrainAccuracy:P1}  validation acc {e.ValidationAccuracy:P1}  macro-F1 {e.ValidationMacroF1:F3}  gap {e.GeneralizationGap:+0.000;-0.000}" +
                                      (e.OptimizerDiagnostics.TryGetValue("ascent_alignment", out var a) ? $"  ascent alignment {a:F4}" : ""));
                Console.WriteLine($"validation ({report.ValidationExamples} examples):");
                Console.WriteLine(report.Validation!.Format());
                if (report.SkippedSteps > 0) Console.WriteLine($"{report.SkippedSteps} steps skipped (non-finite loss or gradient)");
                var checkpoint = Path.Combine(output, TrainingCheckpoint.FileName);
                OutputFolder.Replace(output, folder =>
                {
                    classifier.Save(folder);
                    AtomicFile.WriteAllText(Path.Combine(folder, "learning-curves.svg"), LearningCurves.ToSvg(report, $"{options.Optimizer.Algorithm.Name} on {Path.GetFileName(train.Source)}"));
                    if (keepCheckpoint && File.Exists(checkpoint)) File.Copy(checkpoint, Path.Combine(folder, TrainingCheckpoint.FileName));
                });
                Console.WriteLine($"model saved to {Path.GetFullPath(output)} (learning curves: {Path.Combine(output, "learning-curves.svg")})");
            }
            return 0;
        }
        catch (OperationCanceledException e) when (cancel.IsCancellationRequested)
        {
            Console.Error.WriteLine($"error: {e.Message}" + (options.Loop.CheckpointDirectory is null ? "" : $" Resume with: {TrainingRun.ResumeCommand()}"));
            return 130;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
