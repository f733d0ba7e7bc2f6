using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Support;

/// <summary>
/// Runs a script of an npm reference package under test/js/&lt;package&gt; (installing it with
/// `npm ci --ignore-scripts` when node_modules is missing). Inconclusive only when node/npm are absent.
/// </summary>
public static class NodeReference
{
    public static string Run(string package, string script, string stdin, TimeSpan? timeout = null)
    {
        var dir = Path.Combine(SharedData.RepoRoot, "test", "js", package);
        if (!Directory.Exists(Path.Combine(dir, "node_modules")))
        {
            var (code, _, err) = Execute("npm", "ci --ignore-scripts --no-audit --no-fund --loglevel=error", dir, null, TimeSpan.FromMinutes(5));
            if (code != 0) Assert.Fail($"npm ci in {dir} failed: {err}");
        }
        var (exit, stdout, stderr) = Execute("node", script, dir, stdin, timeout ?? TimeSpan.FromMinutes(5));
        if (exit != 0) Assert.Fail($"node {script} failed ({exit}): {stderr}");
        return stdout;
    }

    private static (int, string, string) Execute(string file, string arguments, string dir, string? stdin, TimeSpan timeout)
    {
        try
        {
            return ProcessRunner.Run(file, arguments, stdin, timeout, dir);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Assert.Inconclusive($"{file} is not installed; ./build.sh installs Node.js and npm.");
            throw;
        }
    }
}
