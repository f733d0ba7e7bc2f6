using System.Globalization;
using System.Text.Json;

namespace Microsoft.ML.Lorenza.Benchmarks.Engines;

/// <summary>
/// This engine (TorchSharp 0.107, libtorch 2.10) against the previous one (its own C++ shim over Debian's
/// libtorch 1.13 + OpenBLAS, the last commit before the move), in one window: the previous commit is checked
/// out as a git worktree under artifacts/previous-engine and built there by its own build.sh (which installs
/// libtorch-dev, cmake and g++); then the binding, forward, train-step, optimizers and memory benchmarks of
/// both engines run alternately, round after round, each in a fresh process, and the table shows
/// this/previous per measure (median over rounds). Both engines' benchmarks also time Debian PyTorch.
/// </summary>
public sealed class PreviousEngineBenchmark : IBenchmark
{
    public const string DefaultCommit = "7bd469f";
    private static readonly string[] Benchmarks = ["binding", "forward", "train-step", "optimizers", "memory"];

    public string Name => "previous-engine";
    public string Description => $"this engine vs the previous one (commit {DefaultCommit}, built beside it), alternating: matmul, op cost, forward, train step, optimizers, memory";

    public void Run(BenchmarkContext context)
    {
        var commit = Option(context, "--commit") ?? DefaultCommit;
        var rounds = int.Parse(Option(context, "--rounds") ?? (context.Quick ? "1" : "2"), CultureInfo.InvariantCulture);
        var only = Option(context, "--only")?.Split(',') ?? Benchmarks;
        var previousRoot = Path.Combine(BenchmarkContext.RepoRoot, "artifacts", "previous-engine");
        var previousDll = Prepare(previousRoot, commit);
        var oursDll = typeof(PreviousEngineBenchmark).Assembly.Location;
        var quick = context.Quick ? " --quick" : "";

        var measures = new Dictionary<string, (List<double> Ours, List<double> Previous, string Unit, bool HigherIsBetter)>();
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var name in only)
            {
                // Alternate which engine goes first, so a slow spell of the shared machine does not always hit the same one.
                var order = round % 2 == 1 ? new[] { true, false } : new[] { false, true };
                foreach (var isOurs in order)
                {
                    var (dll, root) = isOurs ? (oursDll, BenchmarkContext.RepoRoot) : (previousDll, previousRoot);
                    Console.WriteLine($"  round {round}: {(isOurs ? "this" : "previous")} engine, {name}");
                    BenchmarkContext.RunProcess("dotnet", $"\"{dll}\" {name}{quick}");
                    using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "artifacts", "bench", name + ".json")));
                    foreach (var (measure, value, unit, higher) in Extract(name, json.RootElement.GetProperty("results")))
                    {
                        if (!measures.TryGetValue(measure, out var entry)) measures[measure] = entry = ([], [], unit, higher);
                        (isOurs ? entry.Ours : entry.Previous).Add(value);
                    }
                }
            }
        }

        var rows = new List<string[]> { new[] { "measure", "this", "previous", "this/previous", "better" } };
        var results = new List<object>();
        foreach (var (measure, (ours, previous, unit, higher)) in measures)
        {
            if (ours.Count == 0 || previous.Count == 0) continue;
            double o = BenchmarkContext.Median(ours), p = BenchmarkContext.Median(previous);
            rows.Add([$"{measure} ({unit})", Format(o), Format(p), $"{o / p:F2}", higher ? "higher" : "lower"]);
            results.Add(new { measure, unit, higher_is_better = higher, ours = o, previous = p, ratio = o / p, rounds_ours = ours, rounds_previous = previous });
        }
        BenchmarkContext.PrintTable(rows);
        context.Save(new { previous_commit = commit, rounds, rows = results });
    }

    /// <summary>The previous engine's benchmark program, checked out and built if it is not there yet.</summary>
    private static string Prepare(string root, string commit)
    {
        var dll = Path.Combine(root, "test", "Microsoft.ML.Lorenza.Benchmarks", "bin", "Release", "net10.0", "Microsoft.ML.Lorenza.Benchmarks.dll");
        if (File.Exists(dll)) return dll;
        if (!Directory.Exists(root))
        {
            Console.WriteLine($"  checking out {commit} into {root}");
            BenchmarkContext.RunProcess("git", $"-C \"{BenchmarkContext.RepoRoot}\" worktree add --detach \"{root}\" {commit}");
        }
        // The checkout lies inside this repository: without a Directory.Build.targets of its own, MSBuild would import ours.
        var targets = Path.Combine(root, "Directory.Build.targets");
        if (!File.Exists(targets)) File.WriteAllText(targets, "<Project><!-- stops MSBuild from importing the enclosing repository's targets --></Project>\n");
        Console.WriteLine("  building the previous engine with its own ./build.sh build (installs libtorch-dev, cmake, g++ if missing)");
        BenchmarkContext.RunProcess("bash", $"\"{Path.Combine(root, "build.sh")}\" build");
        return File.Exists(dll) ? dll : throw new InvalidOperationException($"the previous engine's build did not produce {dll}");
    }

    /// <summary>The comparable numbers of one benchmark's results (both engines write the same shapes).</summary>
    private static IEnumerable<(string Measure, double Value, string Unit, bool HigherIsBetter)> Extract(string benchmark, JsonElement results)
    {
        var rows = results.ValueKind == JsonValueKind.Object && results.TryGetProperty("rows", out var r) ? r : results;
        foreach (var row in rows.EnumerateArray())
        {
            switch (benchmark)
            {
                case "binding":
                    var measure = row.GetProperty("measure").GetString()!;
                    yield return (measure, row.GetProperty("csharp").GetDouble(), measure.EndsWith("gflops", StringComparison.Ordinal) ? "GFLOP/s" : "µs", measure.EndsWith("gflops", StringComparison.Ordinal));
                    break;
                case "forward" or "train-step":
                    yield return ($"{benchmark} {row.GetProperty("model").GetString()}", row.GetProperty("ours_s").GetDouble() * 1e3, "ms", false);
                    break;
                case "optimizers" when row.TryGetProperty("optimizer", out var optimizer):
                    yield return ($"step {row.GetProperty("model").GetString()} {optimizer.GetString()}", row.GetProperty("step_s").GetDouble() * 1e3, "ms", false);
                    break;
                case "memory":
                    var name = row.GetProperty("Optimizer").GetString();
                    yield return ($"peak RSS roberta-base {name}", row.GetProperty("PeakRssBytes").GetDouble() / 1048576, "MB", false);
                    yield return ($"memory-run step roberta-base {name}", row.GetProperty("SecondsPerStep").GetDouble(), "s", false);
                    break;
            }
        }
    }

    private static string? Option(BenchmarkContext context, string name) =>
        context.Args.FirstOrDefault(a => a.StartsWith(name + "=", StringComparison.Ordinal))?[(name.Length + 1)..];


    private static string Format(double value) => value >= 100 ? value.ToString("F0", CultureInfo.InvariantCulture) : value.ToString("G3", CultureInfo.InvariantCulture);
}
