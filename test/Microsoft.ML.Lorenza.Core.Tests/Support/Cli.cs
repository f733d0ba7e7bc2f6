
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

    public static (int ExitCode, string Stdout, string Stderr) Run(string arguments, string? stdin = null, int timeoutSeconds = 300) =>
        ProcessRunner.Run("dotnet", $"\"{Dll}\" {arguments}", stdin, TimeSpan.FromSeconds(timeoutSeconds));

    /// <summary>Runs the CLI with <paramref name="workingDirectory"/> as its current directory (relative paths resolve there).</summary>
    public static (int ExitCode, string Stdout, string Stderr) RunIn(string workingDirectory, string arguments, int timeoutSeconds = 300) =>
        ProcessRunner.Run("dotnet", $"\"{Dll}\" {arguments}", null, TimeSpan.FromSeconds(timeoutSeconds), workingDirectory);
}
