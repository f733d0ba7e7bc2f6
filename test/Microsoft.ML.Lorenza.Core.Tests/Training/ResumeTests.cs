using System.Diagnostics;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Training;

/// <summary>A run killed mid-training and resumed from its checkpoint ends with exactly the weights of an uninterrupted run.</summary>
[TestClass]
public sealed class ResumeTests
{
    private const string Common = "--preset small --optimizer lorenza --rank 4 --refresh-interval 7 --epochs 3 --batch-size 16 --max-length 48 --seed 3 --validation-fraction 0.1 --device cpu";

    [TestMethod]
    public void KilledAndResumedRunEndsBitIdentical()
    {
        var folder = Directory.CreateTempSubdirectory("lorenza-resume-").FullName;
        try
        {
            // 200 rows: 12 batches an epoch, 36 steps in all, so the resumed run crosses epoch boundaries.
            var data = Path.Combine(folder, "reviews.tsv");
            File.WriteAllLines(data, File.ReadLines(Path.Combine(SharedData.RepoRoot, "src", "Microsoft.ML.Lorenza.Cli", "SampleData", "reviews.tsv")).Take(201));
            var straight = Path.Combine(folder, "straight");
            var (code, _, err) = Cli.Run($"train \"{data}\" -o \"{straight}\" {Common}", timeoutSeconds: 600); // a hang guard: on a shared, oversubscribed machine this run passed 5 minutes
            Assert.AreEqual(0, code, err);

            var interrupted = Path.Combine(folder, "interrupted");
            var checkpoint = Path.Combine(interrupted, "checkpoint.safetensors");
            var info = new ProcessStartInfo("dotnet", $"\"{Cli.DllPath}\" train \"{data}\" -o \"{interrupted}\" {Common} --checkpoint-every 5")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using (var process = Process.Start(info)!)
            {
                var watch = Stopwatch.StartNew();
                while (!process.HasExited && watch.Elapsed < TimeSpan.FromMinutes(8))
                {
                    if (File.Exists(checkpoint) && StepOf(checkpoint) >= 10) break;
                    Thread.Sleep(20);
                }
                Assert.IsFalse(process.HasExited, "the run finished before it could be killed; make it longer");
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }
            var killedAt = StepOf(checkpoint);
            Assert.IsTrue(killedAt is >= 10 and < 36, $"checkpoint at step {killedAt}");
            Assert.IsFalse(File.Exists(Path.Combine(interrupted, "model.safetensors")), "killed before the end");

            (code, var stdout, err) = Cli.Run($"train \"{data}\" -o \"{interrupted}\" {Common} --checkpoint-every 5 --resume --keep-checkpoint", timeoutSeconds: 600);
            Assert.AreEqual(0, code, err);
            StringAssert.Contains(stdout, "resuming from");
            CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(straight, "model.safetensors")), File.ReadAllBytes(Path.Combine(interrupted, "model.safetensors")),
                $"weights after resuming from step {killedAt} differ from the uninterrupted run");
            Assert.AreEqual(History(straight), History(interrupted), "the resumed run's report (losses, accuracies, optimizer diagnostics) equals the uninterrupted one's");
            Assert.IsFalse(Directory.EnumerateFileSystemEntries(interrupted, ".*").Any(), "the killed run's temporary files are gone");

            // A checkpoint of other data or options is refused.
            (code, _, err) = Cli.Run($"train \"{data}\" -o \"{interrupted}\" {Common.Replace("--seed 3", "--seed 4")} --resume");
            Assert.AreEqual(1, code);
            StringAssert.Contains(err, "different data or options");
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    // lorenza.json's per-epoch history without the one measured quantity, the speed.
    private static string History(string model)
    {
        var history = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(model, "lorenza.json")))!["history"]!.AsArray();
        foreach (var epoch in history) epoch!.AsObject().Remove("StepsPerSecond");
        return history.ToJsonString();
    }

    private static int StepOf(string checkpoint)
    {
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

    [TestMethod]
    public void AFailedCheckpointWriteKeepsThePreviousCheckpoint()
    {
        var folder = Directory.CreateTempSubdirectory("lorenza-ckpt-").FullName;
        try
        {
            var path = Path.Combine(folder, "checkpoint.safetensors");
            AtomicFile.WriteAllText(path, "previous checkpoint");
            var e = Assert.ThrowsExactly<IOException>(() => AtomicFile.Write(path, stream =>
            {
                stream.Write(new byte[4096]);
                throw new IOException("No space left on device"); // what a full disk does mid-write
            }));
            StringAssert.Contains(e.Message, "No space left");
            Assert.AreEqual("previous checkpoint", File.ReadAllText(path));
            Assert.AreEqual(1, Directory.GetFiles(folder).Length, "no temporary file left behind");
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }
}
