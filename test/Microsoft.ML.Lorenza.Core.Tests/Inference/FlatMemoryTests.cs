using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Inference;

/// <summary>
/// Long runs keep their memory: `lorenza predict` over 100,000 lines and `lorenza train` for 5,000 steps (a tiny RoBERTa),
/// each in a fresh process whose resident memory is sampled; after the warm-up it may not rise by 5 % or more.
/// </summary>
[TestClass]
public sealed class FlatMemoryTests
{
    private const double AllowedGrowth = 0.05;

    [TestMethod]
    public void Predicting100000Lines_KeepsResidentMemoryFlat()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("Samples /proc/<pid>/status.");
        var folder = Directory.CreateTempSubdirectory("lorenza-flat-predict-").FullName;
        try
        {
            var model = TrainTiny(folder, maxSteps: 2);
            var input = Path.Combine(folder, "texts.txt");
            // A thousand distinct words: the byte-level BPE keeps each word's pieces (up to 100,000 words, a bounded cache that
            // 100,000 distinct numbers would fill during the run), so what is left to grow is what each prediction keeps.
            File.WriteAllLines(input, Enumerable.Range(0, 100_000).Select(i => $"review {i % 1000}: the film was {(i % 3 == 0 ? "good" : "bad")} and {i % 97} people saw it"));
            var run = ResidentMemoryRun.Of("dotnet", $"\"{Cli.DllPath}\" predict --model \"{model}\" \"{input}\" --device cpu", TimeSpan.FromMinutes(5));
            Assert.AreEqual(0, run.ExitCode, run.Stderr);
            Assert.AreEqual(100_001, run.StdoutLines, "a header and one line per text");
            var growth = run.GrowthAfterWarmUp();
            Console.WriteLine($"predict, 100,000 lines: resident memory {growth:P1} after the warm-up; {run.Describe()}");
            Assert.IsLessThan(AllowedGrowth, growth, run.Describe());
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [TestMethod]
    public void Training5000Steps_KeepsResidentMemoryFlat()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("Samples /proc/<pid>/status.");
        var folder = Directory.CreateTempSubdirectory("lorenza-flat-train-").FullName;
        try
        {
            var data = WriteData(folder);
            var run = ResidentMemoryRun.Of("dotnet", $"\"{Cli.DllPath}\" train \"{data}\" --preset tiny --tokenizer-merges 50 --max-length 16 --batch-size 4 " +
                $"--epochs 1000 --max-steps 5000 --validation-fraction 0 --rank 4 --refresh-interval 50 --seed 1 --device cpu -o \"{Path.Combine(folder, "model")}\"",
                TimeSpan.FromMinutes(8));
            Assert.AreEqual(0, run.ExitCode, run.Stderr);
            var growth = run.GrowthAfterWarmUp();
            Console.WriteLine($"train, 5,000 LORENZA steps: resident memory {growth:P1} after the warm-up; {run.Describe()}");
            Assert.IsLessThan(AllowedGrowth, growth, run.Describe());
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    private static string WriteData(string folder)
    {
        var data = Path.Combine(folder, "data.tsv");
        File.WriteAllLines(data, ["text\tlabel", .. Enumerable.Range(0, 200).Select(i => i % 2 == 0 ? $"a good film {i}\tpos" : $"a bad film {i}\tneg")]);
        return data;
    }

    private static string TrainTiny(string folder, int maxSteps)
    {
        var model = Path.Combine(folder, "model");
        var (code, stdout, stderr) = Cli.Run($"train \"{WriteData(folder)}\" --preset tiny --tokenizer-merges 50 --max-length 32 --max-steps {maxSteps} --device cpu -o \"{model}\"");
        Assert.AreEqual(0, code, stderr + stdout);
        return model;
    }
}
