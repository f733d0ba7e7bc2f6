using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using TorchSharp;

namespace Microsoft.ML.Lorenza.Runtime;

/// <summary>
/// Loads libLibTorchSharp the way TorchSharp will, before TorchSharp tries: when that fails, TorchSharp prints
/// a page-long trace that blames a missing package, and copies ~600 MB of libtorch next to the app while
/// looking for it. This turns the loader's own reason into one line with the fix.
/// </summary>
internal static partial class NativeLibraryCheck
{
    /// <summary>Null when the native library loads; otherwise a one-line reason and fix.</summary>
    public static string? Problem()
    {
        var assembly = typeof(torch).Assembly;
        try
        {
            NativeLibrary.Load("torch_cpu", assembly, null); // as TorchSharp does first: its dependencies, by name
        }
        catch (DllNotFoundException) { /* a CUDA or custom layout: LibTorchSharp below says what is missing */ }
        try
        {
            NativeLibrary.Load("LibTorchSharp", assembly, null);
            return null;
        }
        catch (DllNotFoundException e)
        {
            return Explain(e.Message);
        }
    }

    /// <summary>
    /// The one version requirement of TorchSharp's library that the build step can mark weak (no relocation uses
    /// it; see buildTransitive/PatchLibTorchSharp.cs). Any other missing version is one the library really calls.
    /// </summary>
    private const string PatchableVersion = "GLIBCXX_3.4.32";

    /// <summary>The one-line explanation of a loader message that lists every path it tried.</summary>
    internal static string Explain(string loaderMessage)
    {
        var version = MissingVersion().Match(loaderMessage);
        if (version.Success)
        {
            string needed = version.Groups["version"].Value, provider = version.Groups["provider"].Value, library = version.Groups["library"].Value;
            if (needed == PatchableVersion && library.Contains("libLibTorchSharp", StringComparison.Ordinal))
                return $"TorchSharp's {library} needs {needed} (GCC 13's libstdc++), but {provider} is older (Debian 12, Ubuntu 22.04). "
                     + "Fix: build the app with the Microsoft.ML.Lorenza package's build step, which writes a patched copy into the output (set LorenzaPatchLibTorchSharp=always when building on a newer system), or install libstdc++ from GCC 13 or later.";
            // A version the library calls into (a patch cannot help), or one that libtorch itself needs.
            return $"TorchSharp's native library does not load: {library} needs {needed}, which {provider} lacks. "
                 + $"Fix: run the app on a newer Linux, or install a {Path.GetFileName(provider)} that has {needed}.";
        }
        var real = loaderMessage.Split('\n').Select(l => l.Trim())
            .FirstOrDefault(l => l.Contains("libLibTorchSharp", StringComparison.Ordinal) && !l.Contains("cannot open shared object file", StringComparison.Ordinal));
        return real is not null
            ? $"TorchSharp's native library does not load: {real}"
            : "TorchSharp's native library (libLibTorchSharp) is not in the app: add the TorchSharp-cpu package (or TorchSharp-cuda-linux / TorchSharp-cuda-windows for CUDA).";
    }

    // e.g. "/lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.32' not found (required by /app/runtimes/linux-x64/native/libLibTorchSharp.so)"
    [GeneratedRegex(@"(?<provider>\S+): version `(?<version>[A-Z]+_[0-9.]+)' not found \(required by (?<library>[^)]+)\)")]
    private static partial Regex MissingVersion();
}
