using System.Text.Json;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Benchmarks.Modeling;

/// <summary>
/// The PyTorch half of the benchmarks that time our RoBERTa against the same math in plain PyTorch
/// (test/reference/bench_*.py): the request the script reads, and the table of ratios both print.
/// </summary>
internal static class RobertaVsPyTorch
{
    public sealed record Shape(string Name, RobertaConfig Config, int Repeats);

    /// <summary>Runs <paramref name="script"/> on the same shapes and batch, prints ours vs PyTorch and saves the ratios.</summary>
    public static void CompareAndReport(BenchmarkContext context, string script, string header, IReadOnlyList<Shape> shapes, int batch, int seq, IReadOnlyDictionary<string, double> oursSeconds)
    {
        var reply = RunReference(script, shapes, batch, seq);
        var rows = new List<string[]> { new[] { $"{header} (batch {batch}, seq {seq})", "ours ms", "PyTorch ms", "ours/PyTorch", "target" } };
        var results = new List<object>();
        foreach (var shape in shapes)
        {
            var ours = oursSeconds[shape.Name];
            var theirs = reply.GetProperty(shape.Name).GetDouble();
            rows.Add([shape.Name, $"{ours * 1e3:F1}", $"{theirs * 1e3:F1}", $"{ours / theirs:F2}", "<= 1.1"]);
            results.Add(new { model = shape.Name, ours_s = ours, pytorch_s = theirs, ratio = ours / theirs });
        }
        BenchmarkContext.PrintTable(rows);
        context.Save(results);
    }

    /// <summary>The reference script's reply for these shapes: {"name": median seconds}.</summary>
    public static JsonElement RunReference(string script, IReadOnlyList<Shape> shapes, int batch, int seq)
    {
        var request = JsonSerializer.Serialize(new
        {
            configs = shapes.Select(s => new
            {
                name = s.Name, repeats = s.Repeats, vocab = s.Config.VocabSize, hidden = s.Config.HiddenSize, layers = s.Config.NumHiddenLayers,
                heads = s.Config.NumAttentionHeads, ffn = s.Config.IntermediateSize, positions = s.Config.MaxPositionEmbeddings, labels = s.Config.NumLabels,
            }),
            batch, seq, threads = TorchRuntime.NumThreads,
        });
        using var reply = JsonDocument.Parse(BenchmarkContext.RunProcess(BenchmarkContext.Python, Path.Combine(BenchmarkContext.RepoRoot, "test", "reference", script), request));
        return reply.RootElement.Clone();
    }
}
