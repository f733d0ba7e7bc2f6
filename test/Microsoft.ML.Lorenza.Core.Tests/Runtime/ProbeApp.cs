using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Runtime;

/// <summary>
/// A tiny console app that uses the engine the way a user's app does (a ProjectReference to Core, and TorchSharp-cpu),
/// built at test time under artifacts/libstdcxx-tests/app-&lt;configuration&gt;/. It lives in the repository, so the
/// repository's Directory.Build.* apply to it: they import the libLibTorchSharp.so patch step exactly as the Core
/// package's buildTransitive does for a user. Each configuration keeps its folder between runs, so only the first
/// build is a full one. The app doubles [1, 2, 3] and lists the libraries it loaded, or prints `error: message`
/// and exits 1 when the engine cannot load TorchSharp (as the CLI does).
/// </summary>
internal sealed class ProbeApp
{
    private const string Name = "LibStdCxxProbe";

    private const string ProjectText = """
        <Project Sdk="Microsoft.NET.Sdk">
          <!-- Written by LibTorchSharpLoadingTests (test/Microsoft.ML.Lorenza.Core.Tests/Runtime/ProbeApp.cs). -->
          <PropertyGroup>
            <OutputType>Exe</OutputType>
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="TorchSharp-cpu" />
            <ProjectReference Include="../../../src/Microsoft.ML.Lorenza.Core/Microsoft.ML.Lorenza.Core.csproj" />
          </ItemGroup>
        </Project>
        """;

    private const string ProgramText = """
        // Written by LibTorchSharpLoadingTests (test/Microsoft.ML.Lorenza.Core.Tests/Runtime/ProbeApp.cs).
        using Microsoft.ML.Lorenza.Runtime;
        using TorchSharp;

        try
        {
            TorchRuntime.EnsureLoaded();
            using var two = 2.ToScalar();
            using var values = torch.tensor(new[] { 1f, 2f, 3f });
            using var doubled = values.mul(two);
            Console.WriteLine($"doubled: {string.Join(",", doubled.ToArray<float>())}");
            var mapped = File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries))
                .Where(f => f.Length == 6).Select(f => f[5].Trim()).Distinct();
            foreach (var path in mapped.Where(p => p.Contains("/libstdc++.so") || p.EndsWith("/libLibTorchSharp.so")))
                Console.WriteLine($"loaded: {path}");
            return 0;
        }
        catch (TorchUnavailableException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        """;

    private ProbeApp(string project, string buildOutput)
    {
        Project = project;
        BuildOutput = buildOutput;
    }

    /// <summary>The folder of the app's project (and its build.log).</summary>
    public string Project { get; }

    /// <summary>What `dotnet build` printed (minimal verbosity: the lines a user sees).</summary>
    public string BuildOutput { get; }

    /// <summary>The build's detailed log, which also holds the patch step's low-importance lines.</summary>
    public string DetailedLog => File.ReadAllText(Path.Combine(Project, "build.log"));

    public string OutputFolder => Path.Combine(Project, "bin", TestConfiguration, "net10.0");

    public string LibTorchSharp => Path.Combine(OutputFolder, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    /// <summary>The root of the .NET installation running these tests (the apps run on the same runtime).</summary>
    public static string DotnetRoot => Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));

    /// <summary>The test assembly's configuration: the app builds against Core's output in the same one (already built with the tests).</summary>
    private static string TestConfiguration =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";

    /// <summary>Builds the app in artifacts/libstdcxx-tests/app-<paramref name="configuration"/> with these MSBuild properties.</summary>
    public static ProbeApp Build(string configuration, params string[] properties)
    {
        var project = Path.Combine(SharedData.RepoRoot, "artifacts", "libstdcxx-tests", "app-" + configuration);
        Directory.CreateDirectory(project);
        WriteIfChanged(Path.Combine(project, Name + ".csproj"), ProjectText);
        WriteIfChanged(Path.Combine(project, "Program.cs"), ProgramText);
        // No build servers (nothing outlives the test); Core is already built with the tests, in the same configuration.
        var arguments = $"build \"{Path.Combine(project, Name + ".csproj")}\" -c {TestConfiguration} -nologo -v:m --disable-build-servers "
                      + $"-p:BuildProjectReferences=false \"-flp:verbosity=detailed;logfile={Path.Combine(project, "build.log")}\" "
                      + string.Join(" ", properties.Select(p => $"\"-p:{p}\""));
        // A `dotnet test` run hands its MSBuild settings to the test host: the app's build must find its own.
        var inherited = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList();
        var watch = Stopwatch.StartNew();
        var (code, stdout, stderr) = ProcessRunner.Run("dotnet", arguments, null, TimeSpan.FromMinutes(5), project, removeEnvironment: inherited);
        Console.WriteLine($"built app-{configuration} in {watch.Elapsed.TotalSeconds:F1} s");
        if (code != 0) Assert.Fail($"dotnet {arguments} exited with {code}:\n{stdout}\n{stderr}");
        return new ProbeApp(project, stdout + stderr);
    }

    /// <summary>Runs the app as a user would: its apphost, on this machine's loader and libraries.</summary>
    public (int ExitCode, string Stdout, string Stderr) Run() =>
        ProcessRunner.Run(Path.Combine(OutputFolder, Name), "", null, TimeSpan.FromMinutes(2), OutputFolder,
                          new Dictionary<string, string> { ["DOTNET_ROOT"] = DotnetRoot });

    /// <summary>
    /// Runs the app under Debian trixie's loader and libraries: a copy of its apphost whose interpreter is trixie's
    /// ld.so, with trixie's library folder first (the `dotnet` muxer refuses to run under an explicit ld.so).
    /// </summary>
    public (int ExitCode, string Stdout, string Stderr) RunOnTrixie()
    {
        var host = Path.Combine(OutputFolder, Name + "-trixie");
        File.Copy(Path.Combine(OutputFolder, Name), host, overwrite: true);
        var (code, _, stderr) = ProcessRunner.Run("patchelf", $"--set-interpreter \"{Trixie.Loader}\" \"{host}\"", null, TimeSpan.FromMinutes(1));
        if (code != 0) Assert.Fail($"patchelf --set-interpreter failed with {code}: {stderr}");
        return ProcessRunner.Run(host, "", null, TimeSpan.FromMinutes(2), OutputFolder,
                                 new Dictionary<string, string> { ["DOTNET_ROOT"] = DotnetRoot, ["LD_LIBRARY_PATH"] = Trixie.LibDir });
    }

    // Unchanged sources keep their timestamps, so a later build of the same folder is incremental.
    private static void WriteIfChanged(string path, string text)
    {
        if (!File.Exists(path) || File.ReadAllText(path) != text) File.WriteAllText(path, text);
    }
}

/// <summary>
/// Debian trixie's libc6, libgcc-s1 and libstdc++6 (GCC 14's libstdc++, which has GLIBCXX_3.4.32, and the glibc 2.41
/// it needs), fetched once with apt-get from deb.debian.org into artifacts/libstdcxx-tests/trixie/ and extracted
/// there: a newer Linux's C and C++ runtime for one process, without a container. Reported Inconclusive (one line)
/// when the packages cannot be fetched or patchelf is missing.
/// </summary>
internal static class Trixie
{
    private static string Folder => Path.Combine(SharedData.RepoRoot, "artifacts", "libstdcxx-tests", "trixie");

    private static string Root => Path.Combine(Folder, "root");

    public static string LibDir => Path.Combine(Root, "usr", "lib", "x86_64-linux-gnu");

    public static string LibStdCxx => Path.Combine(LibDir, "libstdc++.so.6");

    public static string Loader => Path.Combine(LibDir, "ld-linux-x86-64.so.2");

    private static readonly Lazy<string?> Missing = new(Prepare);

    /// <summary>Fetches the packages (once) and checks for patchelf, or reports Inconclusive with the reason.</summary>
    public static void Require()
    {
        if (Missing.Value is { } why) Assert.Inconclusive(why);
    }

    private static string? Prepare()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.OSArchitecture != Architecture.X64)
            return "Running under Debian trixie's libraries needs x86-64 Linux.";
        if (Tool("patchelf", "--version") is { } noPatchelf)
            return $"patchelf is not available ({noPatchelf}); install it (./build.sh does) to run an app under trixie's loader.";
        if (File.Exists(LibStdCxx) && File.Exists(Loader) && File.Exists(Path.Combine(LibDir, "libc.so.6"))) return null;

        string lists = Path.Combine(Folder, "lists"), cache = Path.Combine(Folder, "cache"), debs = Path.Combine(Folder, "debs");
        foreach (var folder in new[] { Path.Combine(lists, "partial"), Path.Combine(cache, "archives", "partial"), debs })
            Directory.CreateDirectory(folder);
        var sources = Path.Combine(Folder, "sources.list");
        File.WriteAllText(sources, "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main\n");
        // A private sources list, package lists and cache: the machine's own sources and lists are left as they are.
        var apt = $"-q -o Dir::Etc::sourcelist={sources} -o Dir::Etc::sourceparts=- -o Dir::State::Lists={lists} -o Dir::Cache={cache} "
                + "-o APT::Sandbox::User=root -o Acquire::Languages=none";
        if (Tool("apt-get", $"{apt} update") is { } noUpdate) return $"Debian trixie's package list could not be fetched ({noUpdate}).";
        foreach (var old in Directory.GetFiles(debs, "*.deb")) File.Delete(old); // one version of each package
        if (Tool("apt-get", $"{apt} download libc6 libgcc-s1 libstdc++6", debs) is { } noDownload)
            return $"Debian trixie's libc6, libgcc-s1 and libstdc++6 could not be fetched ({noDownload}).";

        var partial = Root + ".partial";
        if (Directory.Exists(partial)) Directory.Delete(partial, recursive: true);
        foreach (var deb in Directory.GetFiles(debs, "*.deb"))
            if (Tool("dpkg-deb", $"-x \"{deb}\" \"{partial}\"") is { } noExtract) return $"{Path.GetFileName(deb)} could not be extracted ({noExtract}).";
        if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
        Directory.Move(partial, Root);
        Directory.Delete(lists, recursive: true); // ~30 MB of package lists, needed no more: the .debs and their files stay
        Directory.Delete(cache, recursive: true);
        return File.Exists(LibStdCxx) && File.Exists(Loader) ? null : $"Debian trixie's packages in {debs} lack libstdc++.so.6 or ld-linux-x86-64.so.2.";
    }

    /// <summary>Runs a tool; null when it succeeded, else its last line of complaint.</summary>
    private static string? Tool(string file, string arguments, string? workingDirectory = null)
    {
        try
        {
            var (code, stdout, stderr) = ProcessRunner.Run(file, arguments, null, TimeSpan.FromMinutes(5), workingDirectory);
            if (code == 0) return null;
            var last = (stderr + "\n" + stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
            return $"{file} exited with {code}: {last}";
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or TimeoutException)
        {
            return $"{file}: {e.Message}";
        }
    }
}
