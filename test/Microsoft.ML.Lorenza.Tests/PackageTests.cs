using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.MLNet.Tests;

/// <summary>
/// The packages as a user gets them. Packs the repository once for the class (`dotnet pack` of the solution, as
/// `./build.sh pack` does, with its own artifacts path so the repository's outputs are untouched, and the tool for
/// linux-x64 only) into a local folder feed under a unique pre-release version, so no cached package of an earlier run
/// can be used. Then, in a temporary folder outside the repository (no Directory.Build.* applies), it does what a user
/// does: `dotnet new console`, `dotnet add package` Microsoft.ML.Lorenza + TorchSharp-cpu + Microsoft.ML, a small pipeline
/// (MapValueToKey → Trainers.Lorenza → MapKeyToValue, 48 synthetic rows, tiny model, 2 epochs, cpu), restore, build, run:
/// once with Microsoft.ML at the package's declared floor (5.0.1, what the package compiles against), once at the newest
/// (the version the repository's tests run on), and once at the newest with Microsoft.ML.TorchSharp beside it (its
/// dependency is TorchSharp >= 0.102.7, so the app gets our TorchSharp 0.107.0; its TextClassification estimator is built
/// in the same app, not fitted: its Fit downloads NAS-BERT weights). And it installs the `lorenza` tool from the feed
/// (`dotnet tool install --tool-path`) and runs `lorenza info`. NuGet there uses an empty packages folder with the user's
/// global one as a read-only fallback (nothing is downloaded again, nothing of this test is left in the user's cache).
/// About 4-5 minutes in all on 2 cores (the pack ~2 of them).
/// </summary>
[TestClass]
public sealed class PackageTests
{
    private const string AppName = "LorenzaPackageSmoke";

    /// <summary>The packed feed, shared by the tests of the class (packing is most of their time).</summary>
    private sealed record Packed(DirectoryInfo Work, string Feed, string Version, string PackTime);

    private static readonly Lazy<Packed> Feed = new(Pack, LazyThreadSafetyMode.ExecutionAndPublication);

    [ClassCleanup]
    public static void DeleteWorkFolder()
    {
        if (!Feed.IsValueCreated) return;
        try { Feed.Value.Work.Delete(recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>Packs the repository into a local feed (once) and checks the packages' ids, dependencies and files.</summary>
    private static Packed Pack()
    {
        if (!OperatingSystem.IsLinux() || System.Runtime.InteropServices.RuntimeInformation.OSArchitecture != System.Runtime.InteropServices.Architecture.X64)
            Assert.Inconclusive("this test packs the linux-x64 tool and runs it: it runs on linux-x64 only.");
        var work = Directory.CreateTempSubdirectory("lorenza-package-test-");
        var feed = Directory.CreateDirectory(Path.Combine(work.FullName, "feed")).FullName;
        var version = UniqueVersion();
        // As ./build.sh pack does.
        var step = Stopwatch.StartNew();
        var pack = Dotnet(SharedData.RepoRoot, TimeSpan.FromMinutes(10), null,
            "pack", Path.Combine(SharedData.RepoRoot, "Microsoft.ML.Lorenza.sln"), "-c", "Release", "--nologo",
            "--artifacts-path", Path.Combine(work.FullName, "build"), $"-p:PackageOutputPath={feed}/", $"-p:Version={version}",
            "-p:LorenzaToolRuntimeIdentifiers=linux-x64", "-nodeReuse:false", "-tl:off", "-v:minimal");
        if (pack.Exit != 0 && UnrestorableDependency(pack.Output) is { } unpackable)
            Assert.Inconclusive($"NuGet cannot restore {unpackable} here, so the repository cannot be packed.");
        Assert.AreEqual(0, pack.Exit, "dotnet pack failed:\n" + pack.Output);
        CheckPackages(feed, version);
        return new Packed(work, feed, version, $"pack {step.Elapsed.TotalSeconds:F0} s (once for the class)");
    }

    [TestMethod]
    [TestCategory("Package")]
    [DataRow("floor", false, DisplayName = "fresh app, Microsoft.ML at the package's floor")]
    [DataRow("newest", false, DisplayName = "fresh app, Microsoft.ML at the newest")]
    [DataRow("newest", true, DisplayName = "fresh app, Microsoft.ML at the newest, Microsoft.ML.TorchSharp beside it")]
    public void PackedPackage_TrainsInAFreshAppOutsideTheRepository(string microsoftML, bool withMicrosoftMLTorchSharp)
    {
        var total = Stopwatch.StartNew();
        var packed = Feed.Value;
        var timings = new List<string> { packed.PackTime };
        var work = Directory.CreateDirectory(Path.Combine(packed.Work.FullName, $"{microsoftML}{(withMicrosoftMLTorchSharp ? "-mltorchsharp" : "")}"));
        try
        {
            // A fresh console app outside the repository, with the local feed and the repository's own sources.
            var app = Path.Combine(work.FullName, "app");
            Assert.IsFalse(SharedData.RepoRoot.StartsWith(work.FullName) || work.FullName.StartsWith(SharedData.RepoRoot),
                $"the app folder {work.FullName} must be outside the repository {SharedData.RepoRoot}");
            if (InheritedMsBuildFiles(work.FullName) is { Count: > 0 } inherited)
                Assert.Inconclusive("the temporary folder is not a clean place for a user's app: " + string.Join(", ", inherited) + " would apply (set TMPDIR elsewhere).");
            var userEnvironment = UserEnvironment(work);

            var step = Stopwatch.StartNew();
            var created = Dotnet(work.FullName, TimeSpan.FromMinutes(2), userEnvironment, "new", "console", "-n", AppName, "-o", app, "--framework", "net10.0");
            Assert.AreEqual(0, created.Exit, "dotnet new console failed:\n" + created.Output);
            var config = WriteNuGetConfig(app, packed.Feed);
            var (newestML, torchSharpCpuVersion) = TestedVersions();
            var mlVersion = microsoftML == "floor" ? RepositoryProperty("MicrosoftMLFloorVersion") : newestML;
            var packages = new List<(string Id, string Version)> { ("Microsoft.ML.Lorenza", packed.Version), ("TorchSharp-cpu", torchSharpCpuVersion), ("Microsoft.ML", mlVersion) };
            if (withMicrosoftMLTorchSharp) packages.Add(("Microsoft.ML.TorchSharp", RepositoryPackageVersion("Microsoft.ML.TorchSharp")));
            foreach (var (id, packageVersion) in packages)
            {
                var added = Dotnet(app, TimeSpan.FromMinutes(2), userEnvironment, "add", "package", id, "--version", packageVersion, "--no-restore");
                Assert.AreEqual(0, added.Exit, $"dotnet add package {id} failed:\n" + added.Output);
            }
            File.WriteAllText(Path.Combine(app, "Program.cs"), withMicrosoftMLTorchSharp ? WithMicrosoftMLTorchSharp(AppSource) : AppSource);
            var restore = Dotnet(app, TimeSpan.FromMinutes(5), userEnvironment, "restore", "--configfile", config, "-tl:off");
            if (restore.Exit != 0 && UnrestorableDependency(restore.Output) is { } missing)
                Assert.Inconclusive($"NuGet cannot restore {missing} here, so the fresh app cannot be built.");
            Assert.AreEqual(0, restore.Exit, "dotnet restore of the fresh app failed:\n" + restore.Output);
            var resolved = ResolvedPackages(app);
            Console.WriteLine($"{microsoftML}: the app resolved " + string.Join(", ", new[] { "Microsoft.ML", "Microsoft.ML.Tokenizers", "TorchSharp", "Microsoft.ML.TorchSharp" }
                .Where(resolved.ContainsKey).Select(id => $"{id} {resolved[id]}")));
            Assert.AreEqual(mlVersion, resolved["Microsoft.ML"], "the app runs on the Microsoft.ML it asked for");
            Assert.AreEqual(torchSharpCpuVersion, resolved["TorchSharp"], "one TorchSharp in the app: the one TorchSharp-cpu brings");
            timings.Add($"new + add package + restore {step.Elapsed.TotalSeconds:F0} s");

            step.Restart();
            var build = Dotnet(app, TimeSpan.FromMinutes(5), userEnvironment, "build", "-c", "Release", "--no-restore", "--nologo", "-nodeReuse:false", "-tl:off", "-v:minimal");
            Assert.AreEqual(0, build.Exit, "dotnet build of the fresh app failed:\n" + build.Output);
            timings.Add($"build {step.Elapsed.TotalSeconds:F0} s");
            var patchLine = build.Output.Split('\n').FirstOrDefault(l => l.Contains("[lorenza]") && l.Contains("libLibTorchSharp.so"));
            if (SystemLibStdCxxLacks("GLIBCXX_3.4.32"))
            {
                Assert.IsNotNull(patchLine, "this machine's libstdc++ lacks GLIBCXX_3.4.32, so the package's build step must patch libLibTorchSharp.so and say so:\n" + build.Output);
                StringAssert.Contains(patchLine, "GLIBCXX_3.4.32");
                Console.WriteLine("build: " + patchLine.Trim());
            }

            step.Restart();
            var run = Dotnet(app, TimeSpan.FromMinutes(5), userEnvironment, "run", "-c", "Release", "--no-build");
            timings.Add($"run {step.Elapsed.TotalSeconds:F0} s");
            Console.WriteLine(run.Output);
            Assert.AreEqual(0, run.Exit, "the fresh app failed:\n" + run.Output);
            var predictions = run.Output.Split('\n').Where(l => l.StartsWith("prediction: ")).ToList();
            Assert.AreEqual(3, predictions.Count, "the app prints one prediction per sentence:\n" + run.Output);
            foreach (var line in predictions)
            {
                var match = Regex.Match(line, @"-> (positive|negative) \[([0-9.]+), ([0-9.]+)\]");
                Assert.IsTrue(match.Success, "a prediction is a label and two probabilities: " + line);
                Assert.AreEqual(1.0, double.Parse(match.Groups[2].Value) + double.Parse(match.Groups[3].Value), 2e-3, line);
            }
            StringAssert.Contains(run.Output, "epoch 2:", "the trainer's Log reaches the app");
            if (withMicrosoftMLTorchSharp)
                StringAssert.Contains(run.Output, $"beside: Microsoft.ML.TorchSharp's TextClassificationTrainer built; TorchSharp {torchSharpCpuVersion}.0 loaded");
        }
        finally
        {
            try { work.Delete(recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            Console.WriteLine($"package test ({microsoftML}{(withMicrosoftMLTorchSharp ? " + Microsoft.ML.TorchSharp" : "")}): {string.Join(", ", timings)}; total {total.Elapsed.TotalSeconds:F0} s");
        }
    }

    [TestMethod]
    [TestCategory("Package")]
    public void PackedTool_InstallsFromTheFeedAndRuns()
    {
        var total = Stopwatch.StartNew();
        var packed = Feed.Value;
        var timings = new List<string> { packed.PackTime };
        var work = Directory.CreateDirectory(Path.Combine(packed.Work.FullName, "tool"));
        try
        {
            var userEnvironment = UserEnvironment(work);
            var config = WriteNuGetConfig(work.FullName, packed.Feed);
            var step = Stopwatch.StartNew();
            var tools = Path.Combine(work.FullName, "tools");
            var install = Dotnet(work.FullName, TimeSpan.FromMinutes(5), userEnvironment,
                "tool", "install", "--tool-path", tools, "Microsoft.ML.Lorenza.Cli", "--version", packed.Version, "--configfile", config);
            Assert.AreEqual(0, install.Exit, "dotnet tool install failed:\n" + install.Output);
            timings.Add($"tool install {step.Elapsed.TotalSeconds:F0} s");
            step.Restart();
            var info = Run(Path.Combine(tools, "lorenza"), work.FullName, TimeSpan.FromMinutes(2), userEnvironment, "info");
            timings.Add($"lorenza info {step.Elapsed.TotalSeconds:F0} s");
            Console.WriteLine(info.Output);
            Assert.AreEqual(0, info.Exit, "lorenza info failed:\n" + info.Output);
            StringAssert.Contains(info.Output, "TorchSharp");
            StringAssert.Contains(info.Output, "libtorch");
            StringAssert.Contains(info.Output, "devices          cpu");
        }
        finally
        {
            try { work.Delete(recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            Console.WriteLine($"package test (tool): {string.Join(", ", timings)}; total {total.Elapsed.TotalSeconds:F0} s");
        }
    }

    /// <summary>An empty NuGet packages folder of the test's own (the user's global one is a read-only fallback in nuget.config).</summary>
    private static Dictionary<string, string> UserEnvironment(DirectoryInfo work) => new() { ["NUGET_PACKAGES"] = Path.Combine(work.FullName, "nuget-packages") };

    /// <summary>The app with Microsoft.ML.TorchSharp's own text classifier built beside ours (built, not fitted: its Fit downloads weights).</summary>
    private static string WithMicrosoftMLTorchSharp(string source)
    {
        const string lastUsing = "using Microsoft.ML.Lorenza;\n";
        Assert.IsTrue(source.Contains(lastUsing));
        return source.Replace(lastUsing, lastUsing + """
            using Microsoft.ML.TorchSharp;

            var theirs = new MLContext(seed: 1).MulticlassClassification.Trainers.TextClassification(labelColumnName: "Label", sentence1ColumnName: "Text");
            Console.WriteLine($"beside: Microsoft.ML.TorchSharp's {theirs.GetType().Name} built; TorchSharp {typeof(global::TorchSharp.torch).Assembly.GetName().Version} loaded");

            """);
    }

    /// <summary>The packages' ids, dependencies and files (printed with their sizes).</summary>
    private static void CheckPackages(string feed, string version)
    {
        var expected = new[] { "Microsoft.ML.Lorenza", "Microsoft.ML.Lorenza.Core", "Microsoft.ML.Lorenza.Cli", "Microsoft.ML.Lorenza.Cli.linux-x64" };
        var nuspecs = new Dictionary<string, (XElement Metadata, List<string> Files)>();
        foreach (var id in expected)
        {
            var path = Path.Combine(feed, $"{id}.{version}.nupkg");
            Assert.IsTrue(File.Exists(path), $"{Path.GetFileName(path)} is missing from the feed: {string.Join(", ", Directory.GetFiles(feed).Select(Path.GetFileName))}");
            using var zip = ZipFile.OpenRead(path);
            var nuspec = zip.Entries.Single(e => e.FullName == id + ".nuspec");
            using var stream = nuspec.Open();
            var metadata = XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
            nuspecs[id] = (metadata, zip.Entries.Select(e => e.FullName).ToList());
            Console.WriteLine($"{id}: {new FileInfo(path).Length:N0} bytes; depends on {string.Join(", ", Dependencies(metadata).Select(d => $"{d.Key} {d.Value}").DefaultIfEmpty("nothing"))}");
            foreach (var field in new[] { "authors", "description", "license", "readme", "tags" })
                Assert.IsFalse(string.IsNullOrWhiteSpace(metadata.Elements().FirstOrDefault(e => e.Name.LocalName == field)?.Value), $"{id}: <{field}> is empty");
        }
        var lorenza = Dependencies(nuspecs["Microsoft.ML.Lorenza"].Metadata);
        Assert.AreEqual(version, lorenza.GetValueOrDefault("Microsoft.ML.Lorenza.Core"), "Microsoft.ML.Lorenza depends on the engine package of the same version");
        Assert.AreEqual(RepositoryProperty("MicrosoftMLFloorVersion"), lorenza.GetValueOrDefault("Microsoft.ML"), "Microsoft.ML.Lorenza declares the floor of Microsoft.ML (Directory.Packages.props)");
        var core = Dependencies(nuspecs["Microsoft.ML.Lorenza.Core"].Metadata);
        Assert.AreEqual(RepositoryProperty("MicrosoftMLTokenizersFloorVersion"), core.GetValueOrDefault("Microsoft.ML.Tokenizers"), "the engine declares the floor of Microsoft.ML.Tokenizers");
        Assert.IsTrue(core.ContainsKey("TorchSharp") && !core.Keys.Any(k => k.StartsWith("TorchSharp-") || k.StartsWith("libtorch")),
            "the engine references TorchSharp only: the app picks the libtorch package");
        Assert.IsFalse(core.ContainsKey("Grpc.Tools"), "Grpc.Tools is a build-time tool");
        // NuGet imports buildTransitive/<PackageId>.targets only.
        CollectionAssert.Contains(nuspecs["Microsoft.ML.Lorenza.Core"].Files, "buildTransitive/Microsoft.ML.Lorenza.Core.targets");
        CollectionAssert.Contains(nuspecs["Microsoft.ML.Lorenza.Core"].Files, "buildTransitive/PatchLibTorchSharp.cs");
        var tool = nuspecs["Microsoft.ML.Lorenza.Cli.linux-x64"].Files;
        CollectionAssert.Contains(tool, "tools/net10.0/linux-x64/lorenza.dll");
        CollectionAssert.Contains(tool, "tools/net10.0/linux-x64/libtorch_cpu.so");
        Assert.IsFalse(tool.Any(f => f.EndsWith("/torch_cpu.dll", StringComparison.Ordinal) || f.EndsWith("/libtorch_cpu.dylib", StringComparison.Ordinal)),
            "the linux-x64 tool package carries no Windows or macOS libtorch");
        Assert.AreEqual(0, Dependencies(nuspecs["Microsoft.ML.Lorenza.Cli"].Metadata).Count, "a tool package has no dependencies");
    }

    private static Dictionary<string, string> Dependencies(XElement metadata) =>
        metadata.Descendants().Where(e => e.Name.LocalName == "dependency")
            .ToDictionary(e => (string)e.Attribute("id")!, e => ((string)e.Attribute("version")!).Trim('[', ']'));

    /// <summary>A version no earlier run used: a stale package in a cache can never stand in for the one just packed.</summary>
    private static string UniqueVersion()
    {
        var assembly = typeof(LorenzaTransformer).Assembly.GetName().Version!;
        return $"{assembly.Major}.{assembly.Minor}.{assembly.Build}-packagetest.{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.g{Guid.NewGuid().ToString("N")[..8]}";
    }

    /// <summary>Microsoft.ML (the newest: MicrosoftMLVersion) and TorchSharp-cpu as this repository resolved them (what its tests ran against).</summary>
    private static (string MicrosoftML, string TorchSharpCpu) TestedVersions()
    {
        using var deps = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Microsoft.ML.Lorenza.Tests.deps.json")));
        var libraries = deps.RootElement.GetProperty("libraries").EnumerateObject().Select(p => p.Name).ToList();
        string Of(string id) => libraries.Single(l => l.StartsWith(id + "/", StringComparison.OrdinalIgnoreCase))[(id.Length + 1)..];
        return (Of("Microsoft.ML"), Of("TorchSharp-cpu"));
    }

    /// <summary>A property of the repository's Directory.Packages.props (the floors).</summary>
    private static string RepositoryProperty(string name) =>
        PackagesProps().Descendants(name).Select(e => e.Value.Trim()).FirstOrDefault(v => v.Length > 0) ?? throw new AssertFailedException($"Directory.Packages.props sets no {name}");

    /// <summary>A package's central version in the repository's Directory.Packages.props.</summary>
    private static string RepositoryPackageVersion(string id) =>
        (string?)PackagesProps().Descendants("PackageVersion").FirstOrDefault(e => (string?)e.Attribute("Include") == id)?.Attribute("Version")
        ?? throw new AssertFailedException($"Directory.Packages.props has no version of {id}");

    private static XDocument PackagesProps() => XDocument.Load(Path.Combine(SharedData.RepoRoot, "Directory.Packages.props"));

    /// <summary>Package id → version, as NuGet resolved them for the app (obj/project.assets.json).</summary>
    private static Dictionary<string, string> ResolvedPackages(string app)
    {
        using var assets = JsonDocument.Parse(File.ReadAllText(Path.Combine(app, "obj", "project.assets.json")));
        return assets.RootElement.GetProperty("libraries").EnumerateObject()
            .Select(p => p.Name.Split('/'))
            .ToDictionary(parts => parts[0], parts => parts[1], StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The app's nuget.config: the local feed, the repository's sources, the user's packages as a read-only fallback.</summary>
    private static string WriteNuGetConfig(string app, string feed)
    {
        var repoConfig = XDocument.Load(Path.Combine(SharedData.RepoRoot, "NuGet.config"));
        var sources = repoConfig.Root!.Element("packageSources")!.Elements("add").ToList();
        var extra = Environment.GetEnvironmentVariable("LORENZA_NUGET_SOURCE");
        var globalPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set
            ? set : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var config = new XDocument(new XElement("configuration",
            new XElement("packageSources",
                new XElement("clear"),
                new XElement("add", new XAttribute("key", "lorenza-local"), new XAttribute("value", feed)),
                string.IsNullOrEmpty(extra) ? null : new XElement("add", new XAttribute("key", "lorenza-extra"), new XAttribute("value", extra)),
                sources),
            Directory.Exists(globalPackages)
                ? new XElement("fallbackPackageFolders", new XElement("add", new XAttribute("key", "user-packages"), new XAttribute("value", globalPackages)))
                : null));
        var path = Path.Combine(app, "nuget.config");
        config.Save(path);
        return path;
    }

    /// <summary>What NuGet could not find or reach, when it is not one of this repository's packages; null otherwise.</summary>
    private static string? UnrestorableDependency(string output)
    {
        foreach (Match match in Regex.Matches(output, @"NU110[123]: Unable to find (?:a stable )?package (?<id>[A-Za-z0-9_.\-]+?)\.?(?:\s|$)", RegexOptions.Multiline))
            if (!match.Groups["id"].Value.StartsWith("Microsoft.ML.Lorenza", StringComparison.OrdinalIgnoreCase)) return "package " + match.Groups["id"].Value;
        var source = Regex.Match(output, @"NU1301: [^\n]*?source '?(?<source>[^'\s]+)");
        return source.Success ? "packages from " + source.Groups["source"].Value.TrimEnd('.') + " (the source cannot be reached)" : null;
    }

    /// <summary>Directory.Build.* / Directory.Packages.props in a folder above <paramref name="folder"/>: they would apply to the app.</summary>
    private static List<string> InheritedMsBuildFiles(string folder)
    {
        var found = new List<string>();
        for (var dir = new DirectoryInfo(folder); dir != null; dir = dir.Parent)
            foreach (var name in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", "global.json" })
                if (File.Exists(Path.Combine(dir.FullName, name))) found.Add(Path.Combine(dir.FullName, name));
        return found;
    }

    private static bool SystemLibStdCxxLacks(string version)
    {
        if (!OperatingSystem.IsLinux()) return false;
        var library = new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6" }.FirstOrDefault(File.Exists);
        if (library is null) return false;
        var bytes = File.ReadAllBytes(library);
        return bytes.AsSpan().IndexOf(Encoding.ASCII.GetBytes(version + "\0")) < 0;
    }

    private static (int Exit, string Output) Dotnet(string workingDirectory, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment, params string[] arguments) =>
        Run(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet", workingDirectory, timeout, environment, arguments);

    /// <summary>Runs a program with stdout and stderr in one text, in a clean environment: no MSBuild settings of the test host leak in.</summary>
    private static (int Exit, string Output) Run(string file, string workingDirectory, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k.StartsWith("MSBuild", StringComparison.Ordinal)).ToList())
            info.Environment.Remove(key);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        info.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        if (environment is not null) foreach (var (key, value) in environment) info.Environment[key] = value;
        var output = new StringBuilder();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {string.Join(' ', arguments)} ran longer than {timeout}:\n{output}");
        }
        process.WaitForExit();
        lock (output) return (process.ExitCode, output.ToString());
    }

    /// <summary>The fresh app: what a user writes after `dotnet add package Microsoft.ML.Lorenza`.</summary>
    private const string AppSource = """
        using Microsoft.ML;
        using Microsoft.ML.Data;
        using Microsoft.ML.Lorenza;

        string[] good = ["great", "wonderful", "excellent", "lovely", "superb", "delightful"];
        string[] bad = ["awful", "terrible", "horrible", "dreadful", "boring", "useless"];
        string[] things = ["film", "phone", "meal", "book", "hotel", "camera", "song", "game"];
        var rows = Enumerable.Range(0, 48).Select(i => i % 2 == 0
            ? new Review { Label = "positive", Text = $"the {things[i % 8]} was {good[i / 2 % 6]}" }
            : new Review { Label = "negative", Text = $"the {things[i % 8]} was {bad[i / 2 % 6]}" }).ToList();

        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(rows);
        var options = new LorenzaTrainer.Options
        {
            LabelColumnName = "Label",
            Sentence1ColumnName = "Text",
            Architecture = Microsoft.ML.Lorenza.Configuration.ModelPreset.Tiny,
            MaxEpochs = 2,
            BatchSize = 8,
            MaxSequenceLength = 16,
            LearningRate = 3e-3,
            Device = "cpu",
            Seed = 1,
            Log = Console.WriteLine,
        };
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.Lorenza(options))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        var model = pipeline.Fit(data);

        var engine = ml.Model.CreatePredictionEngine<Review, ReviewPrediction>(model);
        foreach (var text in new[] { "the hotel was superb", "the song was dreadful", "the camera was lovely" })
        {
            var prediction = engine.Predict(new Review { Text = text });
            Console.WriteLine($"prediction: {text} -> {prediction.PredictedLabel} [{string.Join(", ", prediction.Score.Select(s => s.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)))}]");
        }

        public sealed class Review
        {
            public string Label { get; set; } = "";
            public string Text { get; set; } = "";
        }

        public sealed class ReviewPrediction
        {
            public string PredictedLabel { get; set; } = "";
            public float[] Score { get; set; } = [];
        }
        """;
}
