using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML.Lorenza.Training;
using Microsoft.ML.Lorenza.Datasets;

namespace Microsoft.ML.Lorenza.Benchmarks.Training.Comparison;

/// <summary>
/// ML.NET's FeaturizeText + SdcaMaximumEntropy on the same splits, run by the separate program
/// test/Microsoft.ML.Lorenza.Benchmarks.Classical (built where Microsoft.ML restores; skipped otherwise).
/// </summary>
public static class ClassicalBaseline
{
    public sealed record Result(double Accuracy, double MacroF1, double PositiveF1, double Seconds);

    /// <summary>The program's path, or null (with the reason in <paramref name="why"/>) when it was not built.</summary>
    public static string? Program(out string why)
    {
        var path = Path.Combine(BenchmarkContext.RepoRoot, "test", "Microsoft.ML.Lorenza.Benchmarks.Classical", "bin", "Release", "net10.0",
            "Microsoft.ML.Lorenza.Benchmarks.Classical.dll");
        why = File.Exists(path) ? "" : $"{path} is not built (Microsoft.ML not restorable here?)";
        return File.Exists(path) ? path : null;
    }

    public static Result Run(string program, ComparisonData data, int seed)
    {
        var folder = Directory.CreateTempSubdirectory("lorenza-classical-").FullName;
        try
        {
            var train = Write(Path.Combine(folder, "train.tsv"), data.Train);
            var test = Write(Path.Combine(folder, "test.tsv"), data.Evaluation);
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { program, train, test, seed.ToString(CultureInfo.InvariantCulture) }) start.ArgumentList.Add(a);
            using var process = System.Diagnostics.Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0) throw new InvalidOperationException($"the ML.NET baseline failed on {data.Name}: {stderr.Trim()}");
            var json = JsonDocument.Parse(stdout.Result.Trim().Split('\n')[^1]).RootElement;
            double Get(string name) => json.GetProperty(name).ValueKind == JsonValueKind.Number ? json.GetProperty(name).GetDouble() : double.NaN;
            return new Result(Get("accuracy"), Get("macro_f1"), data.PositiveLabel is null ? double.NaN : Get("f1"), Get("seconds"));
        }
        finally { Directory.Delete(folder, true); }
    }

    // Labels sort ordinally in the program, so the binary positive class "1" is its second label.
    private static string Write(string path, TextDataset data)
    {
        static string Clean(string? s) => (s ?? "").Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ');
        File.WriteAllLines(path, data.Examples.Select(e => $"{Clean(e.Text)}\t{Clean(e.TextPair)}\t{Clean(e.Label)}").Prepend("text\tpair\tlabel"));
        return path;
    }
}
