using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Lorenza.Text;

namespace Microsoft.ML.Lorenza.Benchmarks.Text;

/// <summary>
/// Tokenizer throughput (MB/s of UTF-8 text) of our byte-level BPE vs npm gpt-3-encoder on the same
/// lines (WikiText-2 test, ~1.3 MB), same vocabulary, in one run. Both times exclude start-up and
/// reading: gpt-3-encoder times itself inside node (one pass, its word cache starting empty); ours is
/// timed around the encoding loop, with a fresh tokenizer (empty word cache) per repetition after one
/// JIT warm-up pass.
/// </summary>
public sealed class TokenizerBenchmark : IBenchmark
{
    public string Name => "tokenizer";
    public string Description => "BPE throughput MB/s: ours vs npm gpt-3-encoder (target >= 5x)";

    public void Run(BenchmarkContext context)
    {
        var shared = BenchmarkContext.SharedRoot ?? throw new InvalidOperationException("../shared (fixtures/bpe-gpt2, data/wikitext2) is needed.");
        var lines = File.ReadAllLines(Path.Combine(shared, "data", "wikitext2", "wiki.test.raw")).Select(l => l + "\n").ToArray();
        var megabytes = lines.Sum(l => Encoding.UTF8.GetByteCount(l)) / 1e6;
        var vocab = Path.Combine(shared, "fixtures", "bpe-gpt2");

        // Each repetition: a fresh tokenizer (empty word cache) loaded untimed, then the encoding timed.
        var times = new List<double>();
        var tokens = 0;
        for (var rep = 0; rep < (context.Quick ? 2 : 4); rep++)
        {
            var tokenizer = RobertaTokenizer.FromFolder(vocab);
            var watch = Stopwatch.StartNew();
            tokens = lines.Sum(line => tokenizer.Tokenize(line, splitSpecialTokens: false).Length);
            if (rep > 0) times.Add(watch.Elapsed.TotalSeconds); // the first warms up the JIT
        }
        times.Sort();
        var oursEncode = times[times.Count / 2];

        var jsDir = Path.Combine(BenchmarkContext.RepoRoot, "test", "js", "gpt3-encoder");
        if (!Directory.Exists(Path.Combine(jsDir, "node_modules")))
            throw new InvalidOperationException($"Run `npm ci --ignore-scripts` in {jsDir} (./build.sh does).");
        var info = new ProcessStartInfo("node", "encode.js") { WorkingDirectory = jsDir, RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        using var node = Process.Start(info)!;
        var output = node.StandardOutput.ReadToEndAsync();
        node.StandardInput.Write(JsonSerializer.Serialize(lines));
        node.StandardInput.Close();
        node.WaitForExit();
        var theirs = JsonDocument.Parse(output.Result).RootElement.GetProperty("seconds").GetDouble();

        BenchmarkContext.PrintTable(
        [
            ["tokenizer", "seconds", "MB/s", "vs gpt-3-encoder"],
            ["ours (fresh word cache, median)", $"{oursEncode:F3}", $"{megabytes / oursEncode:F1}", $"{theirs / oursEncode:F1}x faster"],
            ["gpt-3-encoder (node)", $"{theirs:F3}", $"{megabytes / theirs:F1}", "1.0x"],
        ]);
        Console.WriteLine($"{megabytes:F2} MB, {lines.Length} lines, {tokens} tokens");
        context.Save(new { megabytes, tokens, ours_encode_s = oursEncode, gpt3_encoder_s = theirs, speedup = theirs / oursEncode });
    }
}
