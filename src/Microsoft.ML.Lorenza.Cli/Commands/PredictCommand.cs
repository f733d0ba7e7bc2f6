using System.CommandLine;
using System.Globalization;
using Microsoft.ML.Lorenza.Training;
using Microsoft.ML.Lorenza.Inference;

namespace Microsoft.ML.Lorenza.Cli.Commands;

/// <summary>`lorenza predict`: label and class probabilities for each line of a file or of stdin.</summary>
internal static class PredictCommand
{
    /// <summary>Texts scored together: a few of the classifier's batches, small enough to keep memory flat.</summary>
    private const int LinesPerChunk = 256;

    public static Command Create()
    {
        var input = new Argument<string?>("input") { Description = "a text file, one text per line (omit or '-' for stdin)", Arity = ArgumentArity.ZeroOrOne };
        var model = new Option<string>("--model", "-m") { Description = "model folder written by `lorenza train`", Required = true };
        var device = TrainingCommandLine.DeviceOption();
        var (precision, readPrecision) = TrainingCommandLine.PrecisionOption();
        var pairs = new Option<bool>("--pairs") { Description = "each line is a sentence pair: first text, a tab, second text (models trained with --text2-col)" };
        var command = new Command("predict", "Print the predicted label and the probability of every class, one line per input text (tab-separated).");
        command.Arguments.Add(input);
        command.Options.Add(model);
        command.Options.Add(device);
        command.Options.Add(precision);
        command.Options.Add(pairs);
        command.SetAction(r => CommandErrors.Run(() =>
        {
            using var classifier = TextClassifier.Load(r.GetValue(model)!, r.GetValue(device).Resolve(), readPrecision(r));
            var path = r.GetValue(input);
            var isPairs = r.GetValue(pairs);
            var lines = path is null or "-" ? ReadAll(Console.In) : File.Exists(path) ? File.ReadLines(path) : throw new FileNotFoundException($"Input file not found: {path}", path);
            Console.WriteLine("label\t" + string.Join("\t", classifier.Labels.Select(l => $"p({l})")) + "\ttext");
            // A chunk at a time, so a file of any length is scored in the same memory and results appear as they come.
            foreach (var texts in lines.Where(t => !string.IsNullOrWhiteSpace(t)).Chunk(LinesPerChunk))
            {
                var split = isPairs ? texts.Select(SplitPair).ToList() : texts.Select(t => (First: t, Second: (string?)null)).ToList();
                var probabilities = classifier.PredictProbabilities(split.Select(p => p.First).ToList(), isPairs ? split.Select(p => p.Second).ToList() : null);
                for (var i = 0; i < texts.Length; i++)
                {
                    var p = probabilities[i];
                    var label = classifier.Labels[Array.IndexOf(p, p.Max())];
                    Console.WriteLine($"{label}\t{string.Join("\t", p.Select(v => v.ToString("F4", CultureInfo.InvariantCulture)))}\t{texts[i]}");
                }
            }
            return 0;
        }));
        return command;
    }

    private static (string First, string? Second) SplitPair(string line)
    {
        var tab = line.IndexOf('\t');
        if (tab < 0) throw new ArgumentException($"--pairs: the line '{line}' has no tab between its two texts.");
        return (line[..tab], line[(tab + 1)..]);
    }

    private static IEnumerable<string> ReadAll(TextReader reader)
    {
        while (reader.ReadLine() is { } line) yield return line;
    }
}
