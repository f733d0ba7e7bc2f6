using System.Diagnostics;
using System.Text.Json;

namespace Microsoft.ML.Lorenza.Benchmarks;

/// <summary>What a benchmark gets: its arguments, a table printer, timing and a place to save results.</summary>
public sealed class BenchmarkContext(string name, string[] args)
{
    public string[] Args { get; } = args;

    /// <summary>The repository root (where Microsoft.ML.Lorenza.sln is).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>../shared beside the repository (data sets, fixtures), or null.</summary>
    public static string? SharedRoot =>
        Environment.GetEnvironmentVariable("LORENZA_SHARED_DIR") is { Length: > 0 } env && Directory.Exists(env) ? env
        : Directory.Exists(Path.Combine(RepoRoot, "..", "shared")) ? Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"))
        : null;

    /// <summary>The CLI's sample reviews (`label` and `text` columns): texts any benchmark can use without ../shared.</summary>
    public static Datasets.TextDataset SampleReviews() =>
        Datasets.TextDataset.Load(Path.Combine(RepoRoot, "src", "Microsoft.ML.Lorenza.Cli", "SampleData", "reviews.tsv"), new("text", "label"));

    /// <summary>SST-2's dev sentences from ../shared/data, or null when they are not there.</summary>
    public static List<string>? Sst2DevSentences() =>
        SharedRoot is { } shared && File.Exists(Path.Combine(shared, "data", "sst2", "dev.tsv"))
            ? Datasets.TextDataset.Load(Path.Combine(shared, "data", "sst2", "dev.tsv"), new("sentence", "label")).Examples.Select(e => e.Text).ToList()
            : null;

    /// <summary>The interpreter with Debian's PyTorch (the `python3` on PATH may lack torch).</summary>
    public static string Python => Environment.GetEnvironmentVariable("LORENZA_PYTHON") is { Length: > 0 } p ? p : "/usr/bin/python3";

    /// <summary>The value of "--name=value" (or "--name value"), or <paramref name="fallback"/>.</summary>
    public string Value(string name, string fallback)
    {
        for (var i = 0; i < Args.Length; i++)
        {
            if (Args[i].StartsWith(name + "=", StringComparison.Ordinal)) return Args[i][(name.Length + 1)..];
            if (Args[i] == name && i + 1 < Args.Length) return Args[i + 1];
        }
        return fallback;
    }

    /// <summary>The integer value of "--name=N", or <paramref name="fallback"/>.</summary>
    public int Int(string name, int fallback) => int.Parse(Value(name, fallback.ToString(System.Globalization.CultureInfo.InvariantCulture)), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Whether "--quick" was passed: fewer repetitions, for a smoke run.</summary>
    public bool Quick => Args.Contains("--quick");

    /// <summary>Median seconds of <paramref name="repeats"/> timed calls after <paramref name="warmup"/> untimed ones.</summary>
    public static double MedianSeconds(Action action, int repeats, int warmup = 1)
    {
        for (var i = 0; i < warmup; i++) action();
        var times = new double[repeats];
        for (var i = 0; i < repeats; i++)
        {
            var watch = Stopwatch.StartNew();
            action();
            times[i] = watch.Elapsed.TotalSeconds;
        }
        Array.Sort(times);
        return times[repeats / 2];
    }

    /// <summary>The median of measurements (the mean of the middle two for an even count).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>The sample standard deviation (n − 1), 0 for fewer than two values.</summary>
    public static double SampleSd(IReadOnlyCollection<double> values)
    {
        if (values.Count < 2) return 0;
        var mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
    }

    /// <summary>Prints rows as an aligned text table (first row = headers).</summary>
    public static void PrintTable(IReadOnlyList<string[]> rows)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        for (var r = 0; r < rows.Count; r++)
        {
            Console.WriteLine(string.Join("  ", rows[r].Select((cell, c) => cell.PadRight(widths[c]))));
            if (r == 0) Console.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        }
    }

    /// <summary>Writes the results as JSON to artifacts/bench/&lt;file name, default the benchmark's&gt;.json and returns the path.</summary>
    public string Save(object results, string? fileName = null, bool quiet = false)
    {
        var dir = Path.Combine(RepoRoot, "artifacts", "bench");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, (fileName ?? name) + ".json");
        var envelope = new
        {
            benchmark = name,
            date = DateTime.UtcNow.ToString("u"),
            machine = new { cores = Environment.ProcessorCount, os = Environment.OSVersion.ToString() },
            results,
        };
        File.WriteAllText(path, JsonSerializer.Serialize(envelope, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        if (!quiet) Console.WriteLine($"results written to {path}");
        return path;
    }

    /// <summary>Runs a command and returns its stdout; throws with its stderr when it fails.</summary>
    public static string RunProcess(string fileName, string arguments, string? stdin = null)
    {
        var info = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // The reference runs under the same allocator settings the library applies to itself (see ProcessTuning),
        // so ratios compare the code, not the allocator; the OpenMP wait policy is libgomp's default for both.
        info.Environment["GLIBC_TUNABLES"] = "glibc.malloc.trim_threshold=1073741824:glibc.malloc.mmap_threshold=33554432";
        using var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start " + fileName);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin != null) process.StandardInput.Write(stdin);
        process.StandardInput.Close();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{fileName} {arguments} failed ({process.ExitCode}): {stderr.Result}");
        return stdout.Result;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Microsoft.ML.Lorenza.sln"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }
}
