using Microsoft.ML.Lorenza.Benchmarks;

// Runs benchmarks by name: `list`, `all`, or one or more names; other arguments go to the benchmarks.
var benchmarks = typeof(IBenchmark).Assembly.GetTypes()
    .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && t is { IsInterface: false, IsAbstract: false })
    .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
    .OrderBy(b => b.Name)
    .ToList();

// Names come first; from the first option on, everything belongs to the benchmarks (values such as `--seeds 3` too).
var names = args.TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).ToList();
if (names.Count == 0 || names[0] == "list")
{
    Console.WriteLine("benchmarks (run: dotnet run -c Release --project test/Microsoft.ML.Lorenza.Benchmarks -- <name>|all [--quick]):");
    foreach (var b in benchmarks) Console.WriteLine($"  {b.Name,-14} {b.Description}");
    return 0;
}

var selected = names[0] == "all" ? benchmarks : benchmarks.Where(b => names.Contains(b.Name)).ToList();
var unknown = names.Where(n => n != "all" && benchmarks.All(b => b.Name != n)).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"unknown benchmark(s): {string.Join(", ", unknown)}; run `list` to see the names.");
    return 2;
}
foreach (var benchmark in selected)
{
    Console.WriteLine($"== {benchmark.Name}: {benchmark.Description}");
    benchmark.Run(new BenchmarkContext(benchmark.Name, args));
    Console.WriteLine();
}
return 0;
