using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Support;

/// <summary>
/// Runs a reference script from test/reference/ under Debian's PyTorch (python3-torch). On these
/// machines the `python3` on PATH is a different interpreter without torch, so the interpreter is
/// LORENZA_PYTHON when set, else /usr/bin/python3. Reports Inconclusive when it has no torch.
/// </summary>
public static class PythonReference
{
    public static string Interpreter =>
        Environment.GetEnvironmentVariable("LORENZA_PYTHON") is { Length: > 0 } p ? p : "/usr/bin/python3";

    private static readonly Lazy<string?> Missing = new(() =>
    {
        try
        {
            var (code, _, err) = Run("-c \"import torch\"", null, TimeSpan.FromMinutes(2));
            return code == 0 ? null : $"{Interpreter} cannot import torch: {err.Trim()}";
        }
        catch (Exception e)
        {
            return $"{Interpreter} could not be started: {e.Message}";
        }
    });

    /// <summary>Reports Inconclusive (one line) when the reference interpreter or its torch is missing.</summary>
    public static void RequireTorch()
    {
        if (Missing.Value is { } why)
            Assert.Inconclusive($"PyTorch reference unavailable ({why}); install python3-torch (./build.sh does).");
    }

    private static readonly Lazy<string?> NoInterpreter = new(() =>
    {
        try
        {
            var (code, _, err) = Run("-c \"import json, unicodedata\"", null, TimeSpan.FromMinutes(1));
            return code == 0 ? null : err.Trim();
        }
        catch (Exception e)
        {
            return e.Message;
        }
    });

    /// <summary>Runs test/reference/&lt;script&gt; with a JSON request on stdin and parses its JSON reply.</summary>
    /// <param name="requireTorch">False for the pure-Python references (only the interpreter is needed).</param>
    public static JsonDocument RunScript(string script, object request, TimeSpan? timeout = null, bool requireTorch = true)
    {
        if (requireTorch) RequireTorch();
        else if (NoInterpreter.Value is { } why) Assert.Inconclusive($"Python reference unavailable ({Interpreter}: {why}); install python3.");
        var path = Path.Combine(SharedData.RepoRoot, "test", "reference", script);
        var (code, stdout, stderr) = Run($"\"{path}\"", JsonSerializer.Serialize(request), timeout ?? TimeSpan.FromMinutes(5));
        if (code != 0) Assert.Fail($"{script} exited with {code}: {stderr}");
        return JsonDocument.Parse(stdout);
    }

    private static (int code, string stdout, string stderr) Run(string arguments, string? stdin, TimeSpan timeout) =>
        ProcessRunner.Run(Interpreter, arguments, stdin, timeout, environment: new Dictionary<string, string> { ["OMP_NUM_THREADS"] = Environment.ProcessorCount.ToString() });
}
