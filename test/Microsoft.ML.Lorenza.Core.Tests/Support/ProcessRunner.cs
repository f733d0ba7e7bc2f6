using System.Diagnostics;

namespace Microsoft.ML.Lorenza.Tests.Support;

/// <summary>Runs a program with optional stdin and a time limit, returning its exit code and output (the reference tools and the CLI use it).</summary>
public static class ProcessRunner
{
    public static (int ExitCode, string Stdout, string Stderr) Run(string file, string arguments, string? stdin, TimeSpan timeout,
                                                                   string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null,
                                                                   IEnumerable<string>? removeEnvironment = null)
    {
        var info = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (workingDirectory is not null) info.WorkingDirectory = workingDirectory;
        if (environment is not null) foreach (var (key, value) in environment) info.Environment[key] = value;
        if (removeEnvironment is not null) foreach (var key in removeEnvironment) info.Environment.Remove(key); // this process's variables the program must not inherit
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null) process.StandardInput.Write(stdin);
        process.StandardInput.Close();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {arguments} ran longer than {timeout}.");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
