using System.Diagnostics;
using Microsoft.ML.Lorenza.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Benchmarks.Device;

/// <summary>
/// Kill and resume on --device (default cuda) through the `lorenza` CLI (--cli=PATH/lorenza.dll): a run killed after a
/// checkpoint and resumed must end with the weights of an uninterrupted run. A second uninterrupted run measures what
/// the device's own kernels change from run to run: where that is zero the resumed weights must be bit-identical,
/// else no further from the uninterrupted run than the two uninterrupted runs are from each other.
/// </summary>
public sealed class DeviceResumeBenchmark : IBenchmark
{
    public string Name => "device-resume";
    public string Description => "kill and --resume on --device (cuda) through --cli=lorenza.dll: the same weights as an uninterrupted run";

    public void Run(BenchmarkContext context)
    {
        var cli = context.Value("--cli", Path.Combine(BenchmarkContext.RepoRoot, "src", "Microsoft.ML.Lorenza.Cli", "bin", "Release", "net10.0", "lorenza.dll"));
        var device = context.Value("--device", "cuda");
        var rows = context.Int("--rows", 2400);
        var folder = Directory.CreateTempSubdirectory("lorenza-device-resume-").FullName;
        try
        {
            var data = Path.Combine(folder, "reviews.tsv");
            File.WriteAllLines(data, File.ReadLines(Path.Combine(Path.GetDirectoryName(cli)!, "SampleData", "reviews.tsv")).Take(rows + 1));
            var common = $"--preset small --optimizer lorenza --rank 4 --refresh-interval 7 --epochs 2 --batch-size 16 --max-length 48 --seed 3 --validation-fraction 0.1 --device {device} --precision {context.Value("--precision", "none")}";
            var totalSteps = 2 * (int)Math.Ceiling(rows * 0.9 / 16);
            var killAfter = context.Int("--kill-after", totalSteps / 3);

            var watch = Stopwatch.StartNew();
            Train(cli, $"train \"{data}\" -o \"{Path.Combine(folder, "straight")}\" {common}");
            var straightSeconds = watch.Elapsed.TotalSeconds;
            Train(cli, $"train \"{data}\" -o \"{Path.Combine(folder, "again")}\" {common}");

            var interrupted = Path.Combine(folder, "interrupted");
            var killedAt = RunAndKill(cli, $"train \"{data}\" -o \"{interrupted}\" {common} --checkpoint-every 10", Path.Combine(interrupted, "checkpoint.safetensors"), killAfter);
            var resumeLog = Train(cli, $"train \"{data}\" -o \"{interrupted}\" {common} --checkpoint-every 10 --resume");
            if (!resumeLog.Contains("resuming from", StringComparison.Ordinal)) throw new InvalidOperationException("the second run did not resume:\n" + resumeLog);

            var (againIdentical, againDiff) = Compare(folder, "straight", "again");
            var (resumedIdentical, resumedDiff) = Compare(folder, "straight", "interrupted");
            var pass = againIdentical ? resumedIdentical : resumedDiff <= Math.Max(againDiff, 0) * 10;
            BenchmarkContext.PrintTable(
            [
                ["compared with the uninterrupted run", "bit-identical", "max |Δw|"],
                ["a second uninterrupted run", againIdentical ? "yes" : "no", $"{againDiff:E2}"],
                [$"killed at step {killedAt} of {totalSteps}, resumed", resumedIdentical ? "yes" : "no", $"{resumedDiff:E2}"],
            ]);
            Console.WriteLine($"device {device}: {(pass ? "ok" : "FAIL")} (rule: bit-identical when two uninterrupted runs are; else within 10x their difference); an uninterrupted run took {straightSeconds:F1} s");
            context.Save(new { device, total_steps = totalSteps, killed_at = killedAt, again_identical = againIdentical, again_max_abs_diff = againDiff, resumed_identical = resumedIdentical, resumed_max_abs_diff = resumedDiff, pass, straight_seconds = straightSeconds });
            if (!pass) Environment.ExitCode = 1;
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    private static string Train(string cli, string arguments)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath!, $"\"{cli}\" {arguments}") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"lorenza {arguments} failed ({process.ExitCode}):\n{stdout}\n{stderr.Result}");
        return stdout;
    }

    /// <summary>Starts a run, kills it once its checkpoint has reached <paramref name="killAfter"/> steps, and returns the checkpoint's step.</summary>
    private static int RunAndKill(string cli, string arguments, string checkpoint, int killAfter)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath!, $"\"{cli}\" {arguments}") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var watch = Stopwatch.StartNew();
        while (!process.HasExited && watch.Elapsed < TimeSpan.FromMinutes(5) && StepOf(checkpoint) < killAfter) Thread.Sleep(5);
        if (process.HasExited) throw new InvalidOperationException("the run ended before it could be killed; raise --rows or lower --kill-after");
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
        return StepOf(checkpoint);
    }

    private static int StepOf(string checkpoint)
    {
        if (!File.Exists(checkpoint)) return 0;
        try
        {
            var position = SafeTensors.ReadMetadata(checkpoint)["lorenza.position"];
            return System.Text.Json.JsonDocument.Parse(position).RootElement.GetProperty("Step").GetInt32();
        }
        catch (IOException)
        {
            return 0; // being replaced right now
        }
    }

    /// <summary>Whether two runs' model.safetensors are the same bytes, and the largest absolute weight difference.</summary>
    private static (bool Identical, double MaxAbsDiff) Compare(string folder, string a, string b)
    {
        string fa = Path.Combine(folder, a, "model.safetensors"), fb = Path.Combine(folder, b, "model.safetensors");
        var identical = File.ReadAllBytes(fa).AsSpan().SequenceEqual(File.ReadAllBytes(fb));
        var ta = SafeTensors.Load(fa);
        var tb = SafeTensors.Load(fb);
        double max = 0;
        foreach (var (name, t) in ta)
        {
            using var scope = torch.NewDisposeScope();
            if (!t.is_floating_point()) continue;
            max = Math.Max(max, (t.to(ScalarType.Float64) - tb[name].to(ScalarType.Float64)).abs().max().item<double>());
        }
        foreach (var t in ta.Values.Concat(tb.Values)) t.Dispose();
        return (identical, max);
    }
}
