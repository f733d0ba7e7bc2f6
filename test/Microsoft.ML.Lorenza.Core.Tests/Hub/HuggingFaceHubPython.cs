using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Hub;

/// <summary>
/// Python's own Hugging Face Hub client, for the interoperability tests: huggingface_hub's source (a folder holding the
/// huggingface_hub package) run by Debian's python3 with Debian's packages (python3-httpx, -filelock, -tqdm, -packaging,
/// -fsspec, -yaml, -typing-extensions; build.sh installs them). The source is LORENZA_HF_HUB_SRC, else the newest
/// ../hfhub/&lt;version&gt;/src beside the repository, else a huggingface_hub the interpreter imports by itself. Tests report
/// Inconclusive with one line when none imports.
/// </summary>
internal static class HuggingFaceHubPython
{
    public const string SourceVariable = "LORENZA_HF_HUB_SRC";

    private static readonly Lazy<(string? Source, string? Version, string? Problem)> Found = new(FindAndClean);

    /// <summary>The huggingface_hub version the tests run, or Inconclusive.</summary>
    public static string Version => Require().Version!;

    private static (string? Source, string? Version, string? Problem) Require()
    {
        var found = Found.Value;
        if (found.Problem is { } why)
            Assert.Inconclusive($"Python's huggingface_hub is unavailable ({why}): fetch its source (git clone -b v1.3.7 https://github.com/huggingface/huggingface_hub ../hfhub/v1.3.7) or set {SourceVariable}, and install the Debian packages build.sh lists.");
        return found;
    }

    // Imports huggingface_hub and takes its blob lock once: huggingface_hub 1.4 and later pass FileLock(mode=...), which
    // Debian 12's python3-filelock 3.9 lacks, so they import but cannot download there.
    private const string ProbeScript = """
        import os, sys, tempfile
        import huggingface_hub
        from huggingface_hub.utils import WeakFileLock
        path = os.path.join(tempfile.mkdtemp(), "probe.lock")
        with WeakFileLock(path):
            pass
        print(huggingface_hub.__version__)
        """;

    private static readonly Lazy<string> ProbeFile = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), $"lorenza-hf-hub-probe-{System.Environment.ProcessId}.py");
        File.WriteAllText(path, ProbeScript);
        return path;
    });

    private static string Probe => ProbeFile.Value;

    /// <summary>The newest candidate that imports and takes a lock (the newest that runs on this machine's packages).</summary>
    private static (string? Source, string? Version, string? Problem) Find()
    {
        var candidates = new List<string?>();
        if (Environment.GetEnvironmentVariable(SourceVariable) is { Length: > 0 } given) candidates.Add(given);
        var beside = Path.GetFullPath(Path.Combine(SharedData.RepoRoot, "..", "hfhub"));
        if (Directory.Exists(beside))
            candidates.AddRange(Directory.EnumerateDirectories(beside)
                .Select(d => (Dir: d, Version: System.Version.TryParse(Path.GetFileName(d).TrimStart('v'), out var v) ? v : new Version(0, 0)))
                .OrderByDescending(d => d.Version).Select(d => Path.Combine(d.Dir, "src")).Where(Directory.Exists));
        candidates.Add(null); // installed
        var problems = new List<string>();
        foreach (var source in candidates)
        {
            try
            {
                var (code, stdout, stderr) = ProcessRunner.Run(PythonReference.Interpreter, $"\"{Probe}\"", null,
                                                               TimeSpan.FromMinutes(1), environment: Variables(source, new Dictionary<string, string>()));
                if (code == 0) return (source, stdout.Trim(), null);
                problems.Add($"{source ?? "installed"}: {stderr.Trim().Split('\n')[^1]}");
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or TimeoutException)
            {
                return (null, null, $"{PythonReference.Interpreter} could not be started: {e.Message}");
            }
        }
        return (null, null, string.Join("; ", problems));
    }

    private static (string? Source, string? Version, string? Problem) FindAndClean()
    {
        try { return Find(); }
        finally { if (ProbeFile.IsValueCreated) File.Delete(ProbeFile.Value); }
    }

    private static Dictionary<string, string> Variables(string? source, IReadOnlyDictionary<string, string> variables)
    {
        var env = new Dictionary<string, string> { ["HF_HUB_DISABLE_TELEMETRY"] = "1", ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1", ["HF_HUB_DISABLE_XET"] = "1" };
        if (source is not null) env["PYTHONPATH"] = source;
        foreach (var (name, value) in variables) env[name] = value;
        return env;
    }

    private static readonly string[] NotInherited = ["HF_TOKEN", "HF_HUB_OFFLINE", "HF_ENDPOINT", "HF_HUB_CACHE", "HF_HOME", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"];

    private static string Script => Path.Combine(SharedData.RepoRoot, "test", "reference", "hf_hub_interop.py");

    /// <summary>Runs test/reference/hf_hub_interop.py with <paramref name="variables"/> (HF_ENDPOINT, HF_HUB_CACHE, …) and returns its reply.</summary>
    public static JsonElement Run(object request, IReadOnlyDictionary<string, string> variables)
    {
        var found = Require();
        var (code, stdout, stderr) = ProcessRunner.Run(PythonReference.Interpreter, $"\"{Script}\"", JsonSerializer.Serialize(request), TimeSpan.FromMinutes(2),
                                                       environment: Variables(found.Source, variables), removeEnvironment: NotInherited.Where(v => !variables.ContainsKey(v)));
        if (code != 0) Assert.Fail($"huggingface_hub {found.Version} failed ({code}): {stderr}");
        return JsonDocument.Parse(stdout).RootElement.Clone();
    }

    /// <summary>Starts the script without waiting for it (to hold a lock, or to download while a lock is held).</summary>
    public static Process Start(object request, IReadOnlyDictionary<string, string> variables)
    {
        var found = Require();
        var info = new ProcessStartInfo(PythonReference.Interpreter, $"\"{Script}\"")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var name in NotInherited) info.Environment.Remove(name);
        foreach (var (name, value) in Variables(found.Source, variables)) info.Environment[name] = value;
        var process = Process.Start(info)!;
        process.StandardInput.Write(JsonSerializer.Serialize(request));
        process.StandardInput.Close();
        return process;
    }
}
