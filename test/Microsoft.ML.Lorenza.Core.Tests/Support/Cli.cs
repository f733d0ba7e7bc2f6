using System.Diagnostics;

namespace Microsoft.ML.Lorenza.Tests.Support;

/// <summary>Runs the `lorenza` CLI (built with the tests, same configuration) in a fresh process.</summary>
public static class Cli
{
    public static string DllPath => Dll;

    private static string Dll
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
            return Path.Combine(SharedData.RepoRoot, "src", "Microsoft.ML.Lorenza.Cli", "bin", configuration, "net10.0", "lorenza.dll");
        }
    }

    public static (int ExitCode, string Stdout, string Stderr) Run(string arguments, string? stdin = null, int timeoutSeconds = 300)
    {
        var info = new ProcessStartInfo("dotnet", $"\"{Dll}\" {arguments}")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null) process.StandardInput.Write(stdin);
        process.StandardInput.Close();
        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"lorenza {arguments} ran longer than {timeoutSeconds} s");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
