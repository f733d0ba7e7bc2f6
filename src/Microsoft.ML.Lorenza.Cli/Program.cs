using System.CommandLine;
using Microsoft.ML.Lorenza.Cli.Commands;

namespace Microsoft.ML.Lorenza.Cli;

/// <summary>The `lorenza` tool: verbs in the style of the ML.NET CLI.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("Fine-tune RoBERTa and BERT text classifiers with the LORENZA optimizer (libtorch, CPU or CUDA).");
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(EvaluateCommand.Create());
        root.Subcommands.Add(PredictCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(PretrainedCommand.Create());
        var result = root.Parse(args);
        // --help clears parse errors (e.g. a missing required option); anything else with errors is a usage error.
        if (result.Errors.Count > 0 && result.Action is not System.CommandLine.Invocation.CommandLineAction { ClearsParseErrors: true })
            return ParseErrors.Report(result);
        return result.Invoke();
    }
}
