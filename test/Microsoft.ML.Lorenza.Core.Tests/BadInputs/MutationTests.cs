using System.Diagnostics;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.BadInputs;

/// <summary>
/// The contract of every reader of outside bytes, checked on a few thousand damaged files (a fixed seed, so a failure
/// repeats): a damaged file is read, or refused with an <see cref="InvalidDataException"/> — never another exception,
/// a hang or an allocation sized by an unchecked number. A fast, deterministic stand-in for fuzzing, run by CI.
/// LORENZA_MUTATION_ONLY=text runs only the readers whose name contains the text (while working on one).
/// </summary>
[TestClass]
public sealed class MutationTests
{
    private const int Seed = 28;

    /// <summary>Longest one input may take before it counts as a hang.</summary>
    private static readonly TimeSpan HangAfter = TimeSpan.FromSeconds(10);

    [TestMethod]
    public void EveryReader_ReadsOrRefusesDamagedFiles_WithInvalidDataException()
    {
        using var seeds = new ReaderSeeds();
        var failures = new List<string>();
        var total = Stopwatch.StartNew();
        var inputs = 0;
        var only = Environment.GetEnvironmentVariable("LORENZA_MUTATION_ONLY");
        foreach (var (reader, index) in seeds.Readers.Select((r, i) => (r, i)))
        {
            if (only is { Length: > 0 } && !reader.Name.Contains(only, StringComparison.Ordinal)) continue;
            var random = new Random(Seed * 1000 + index);
            var path = Path.Combine(reader.Folder, reader.File);
            var original = File.ReadAllBytes(path);
            reader.Read(); // the valid file reads
            var clock = Stopwatch.StartNew();
            var (found, refusals) = (0, 0);
            var slowest = (Seconds: 0.0, What: "");
            try
            {
                for (var i = 0; i < reader.Inputs; i++)
                {
                    var (bytes, what) = Mutations.Next(random, original, reader.File.EndsWith(".safetensors", StringComparison.Ordinal));
                    File.WriteAllBytes(path, bytes);
                    inputs++;
                    var started = clock.Elapsed;
                    var (problem, refused) = ReaderContract.Check(reader, HangAfter);
                    if ((clock.Elapsed - started).TotalSeconds is var seconds && seconds > slowest.Seconds) slowest = (seconds, $"input {i}, {what}");
                    if (refused) refusals++;
                    if (problem is not null && ++found <= 3) failures.Add($"[{reader.Name}] input {i} ({what}): {problem}");
                }
            }
            finally
            {
                File.WriteAllBytes(path, original);
            }
            Console.WriteLine($"{reader.Name}: {reader.Inputs} inputs, {refusals} refused, in {clock.Elapsed.TotalSeconds:F1} s (slowest {slowest.Seconds:F2} s: {slowest.What})");
        }
        Console.WriteLine($"{inputs} damaged inputs over {seeds.Readers.Count} readers in {total.Elapsed.TotalSeconds:F1} s");
        Assert.IsEmpty(failures, string.Join("\n", failures));
    }
}
