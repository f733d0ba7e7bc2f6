using System.Diagnostics;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Training;

/// <summary>The output folder: checked before training, locked while written, cleaned of dead runs' files, replaced atomically.</summary>
[TestClass]
public sealed class OutputFolderTests
{
    private static string NewFolder() => Directory.CreateTempSubdirectory("lorenza-out-").FullName;

    private static string SampleData(string folder, int rows)
    {
        var data = Path.Combine(folder, "reviews.tsv");
        File.WriteAllLines(data, File.ReadLines(Path.Combine(SharedData.RepoRoot, "src", "Microsoft.ML.Lorenza.Cli", "SampleData", "reviews.tsv")).Take(rows + 1));
        return data;
    }

    [TestMethod]
    public void NotEnoughFreeSpace_IsRefusedBeforeTraining()
    {
        var folder = NewFolder();
        try
        {
            var model = Path.Combine(folder, "model");
            var error = Assert.ThrowsExactly<IOException>(() => OutputFolder.Check(model, long.MaxValue / 2));
            StringAssert.Contains(error.Message, "free on that disk, but the model and a checkpoint need about");
            Assert.IsFalse(Directory.Exists(model));
            OutputFolder.Check(model, OutputFolder.BytesNeeded(1_000_000)); // 14 MB: there is room
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [TestMethod]
    public void AFailedSave_LeavesThePreviousModel_OrNothing()
    {
        var folder = NewFolder();
        try
        {
            var model = Path.Combine(folder, "model");
            void FailingWrite(string temp)
            {
                File.WriteAllText(Path.Combine(temp, "config.json"), "{}");
                throw new IOException("No space left on device"); // what a full disk does mid-save
            }
            var error = Assert.ThrowsExactly<IOException>(() => OutputFolder.Replace(model, FailingWrite));
            StringAssert.Contains(error.Message, "No space left on device");
            CollectionAssert.AreEqual(Array.Empty<string>(), Directory.GetFileSystemEntries(folder), "nothing: not even config.json");

            OutputFolder.Replace(model, temp => File.WriteAllText(Path.Combine(temp, "model.safetensors"), "previous"));
            Assert.ThrowsExactly<IOException>(() => OutputFolder.Replace(model, FailingWrite));
            Assert.AreEqual("previous", File.ReadAllText(Path.Combine(model, "model.safetensors")));
            CollectionAssert.AreEqual(new[] { model }, Directory.GetFileSystemEntries(folder), "no temporary folder left");

            OutputFolder.Replace(model, temp => File.WriteAllText(Path.Combine(temp, "model.safetensors"), "new"));
            CollectionAssert.AreEqual(new[] { Path.Combine(model, "model.safetensors") }, Directory.GetFileSystemEntries(model), "the old content is gone");
            Assert.AreEqual("new", File.ReadAllText(Path.Combine(model, "model.safetensors")));
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    private static int DeadProcessId()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        process.WaitForExit();
        return process.Id;
    }

    [TestMethod]
    public void ASecondRunIsRefused_NamingTheFirstsProcessId_AndADeadRunsLockIsTakenOver()
    {
        var folder = NewFolder();
        try
        {
            var model = Path.Combine(folder, "model");
            using (RunLock.Acquire(model))
            {
                var error = Assert.ThrowsExactly<IOException>(() => RunLock.Acquire(model));
                StringAssert.Contains(error.Message, $"is being written by another lorenza run (process {Environment.ProcessId}");
            }
            Assert.IsFalse(File.Exists(RunLock.PathFor(model)), "released");

            File.WriteAllText(RunLock.PathFor(model), $"{DeadProcessId()} {DateTime.UtcNow.Ticks}\n");
            using (RunLock.Acquire(model))
                StringAssert.StartsWith(File.ReadAllText(RunLock.PathFor(model)), $"{Environment.ProcessId} ");
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [TestMethod]
    public void TemporaryFilesOfDeadRuns_AreRemoved_ThoseOfLiveRunsKept()
    {
        var folder = NewFolder();
        try
        {
            var model = Path.Combine(folder, "model");
            Directory.CreateDirectory(model);
            var dead = DeadProcessId();
            File.WriteAllText(Path.Combine(model, $".checkpoint.safetensors.{dead}.{Guid.NewGuid():N}.tmp"), "half a checkpoint");
            Directory.CreateDirectory(Path.Combine(folder, $".model.{dead}.saving"));
            var live = Path.Combine(model, $".checkpoint.safetensors.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
            File.WriteAllText(live, "being written");
            Assert.AreEqual(2, OutputFolder.CleanStale(model));
            CollectionAssert.AreEqual(new[] { live }, Directory.GetFileSystemEntries(model));
            CollectionAssert.AreEqual(new[] { model }, Directory.GetFileSystemEntries(folder));
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [TestMethod]
    public void TheCheckpointIsDeletedWhenTrainingEnds_UnlessKept()
    {
        var folder = NewFolder();
        try
        {
            var data = SampleData(folder, 64);
            const string common = "--preset tiny --max-steps 4 --batch-size 16 --checkpoint-every 2 --device cpu";
            var (code, _, err) = Cli.Run($"train \"{data}\" -o \"{Path.Combine(folder, "m")}\" {common}");
            Assert.AreEqual(0, code, err);
            CollectionAssert.AreEquivalent(new[] { "config.json", "model.safetensors", "vocab.json", "merges.txt", "lorenza.json", "learning-curves.svg" },
                Directory.GetFiles(Path.Combine(folder, "m")).Select(Path.GetFileName).ToArray());

            (code, _, err) = Cli.Run($"train \"{data}\" -o \"{Path.Combine(folder, "k")}\" {common} --keep-checkpoint");
            Assert.AreEqual(0, code, err);
            Assert.IsTrue(File.Exists(Path.Combine(folder, "k", "checkpoint.safetensors")));
            CollectionAssert.AreEquivalent(new[] { "reviews.tsv", "m", "k" }, Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).ToArray(), "no lock or temporary folder left");
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [TestMethod]
    public void CtrlC_SavesACheckpoint_AndPrintsTheResumeCommand()
    {
        var folder = NewFolder();
        try
        {
            var data = SampleData(folder, 60);
            var model = Path.Combine(folder, "model");
            // Steps enough that the interrupt lands mid-run: with LORENZA's cheaper default step, 12 steps ended before it did.
            var arguments = $"train {data} -o {model} --preset tiny --epochs 50 --max-steps 60 --batch-size 8 --seed 2 --device cpu";
            // A suite started in the background (`./build.sh test &`) inherits SIGINT ignored, and .NET then never raises
            // Console.CancelKeyPress; `env --default-signal=INT` gives the child the disposition a terminal gives it.
            var dotnet = $"\"{Cli.DllPath}\" {arguments}";
            var info = OperatingSystem.IsLinux()
                ? new ProcessStartInfo("env", $"--default-signal=INT dotnet {dotnet}")
                : new ProcessStartInfo("dotnet", dotnet);
            (info.RedirectStandardOutput, info.RedirectStandardError, info.UseShellExecute) = (true, true, false);
            using var process = Process.Start(info)!;
            var stderr = process.StandardError.ReadToEndAsync();
            // Wait for the first progress line (training has begun), then send what Ctrl+C sends.
            while (process.StandardOutput.ReadLine() is { } line && !line.StartsWith("epoch ", StringComparison.Ordinal)) { }
            using (var kill = Process.Start("kill", $"-INT {process.Id}")) kill.WaitForExit();
            var stdout = process.StandardOutput.ReadToEndAsync();
            Assert.IsTrue(process.WaitForExit(TimeSpan.FromMinutes(2)), "the run stops");
            Assert.AreEqual(130, process.ExitCode, stderr.Result + stdout.Result);
            var error = stderr.Result.Trim();
            StringAssert.Matches(error, new System.Text.RegularExpressions.Regex(@"^error: Training was cancelled at step \d+; checkpoint saved to "));
            StringAssert.EndsWith(error, $"Resume with: lorenza {arguments} --resume");
            CollectionAssert.AreEqual(new[] { "checkpoint.safetensors" }, Directory.GetFileSystemEntries(model).Select(Path.GetFileName).ToArray(), "only the checkpoint");
            Assert.IsFalse(File.Exists(RunLock.PathFor(model)), "the lock is released");

            var (code, resumed, err) = Cli.Run(arguments + " --resume");
            Assert.AreEqual(0, code, err);
            StringAssert.Contains(resumed, "resuming from");
            Assert.IsFalse(File.Exists(Path.Combine(model, "checkpoint.safetensors")), "deleted when training ends");
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }
}
