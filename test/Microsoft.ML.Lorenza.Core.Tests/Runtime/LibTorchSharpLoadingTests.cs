using System.IO.Compression;
using Microsoft.ML.Lorenza.Runtime;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;

namespace Microsoft.ML.Lorenza.Tests.Runtime;

/// <summary>
/// TorchSharp 0.107's libLibTorchSharp.so requires GLIBCXX_3.4.32 (GCC 13's libstdc++) for one symbol that no
/// relocation uses. The build step (buildTransitive/Microsoft.ML.Lorenza.Core.targets) writes a copy with that
/// requirement marked weak where the libstdc++ lacks it and leaves the file alone where it has it; without the step
/// the engine says so in one line. These tests check each path on this machine, and the newer-libstdc++ path under
/// Debian trixie's libraries (fetched once into artifacts/; Inconclusive when they cannot be).
/// </summary>
[TestClass]
public sealed class LibTorchSharpLoadingTests
{
    private const string Weakened = "GLIBCXX_3.4.32";

    [TestInitialize]
    public void LinuxOnly()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("libLibTorchSharp.so and its libstdc++ requirement exist on Linux only.");
    }

    [TestMethod]
    public void TheTestOutputHoldsAPatchedCopyThatLoadsAndTheNuGetCacheIsUnchanged()
    {
        TorchRuntime.EnsureLoaded();
        using (var two = 2.ToScalar())
        using (var values = torch.tensor(new[] { 1f, 2f, 3f }))
        using (var doubled = values.mul(two))
            CollectionAssert.AreEqual(new[] { 2f, 4f, 6f }, doubled.ToArray<float>());

        var loaded = LoadedLibraries();
        var output = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.AreEqual(output, loaded.Single(p => Path.GetFileName(p) == "libLibTorchSharp.so"), "the library TorchSharp loaded");
        var original = NuGetOriginal();
        AssertNuGetCacheUnchanged(original);
        var libstdcxx = loaded.First(p => Path.GetFileName(p).StartsWith("libstdc++.so.6", StringComparison.Ordinal));
        if (Defines(libstdcxx, Weakened))
            CollectionAssert.AreEqual(File.ReadAllBytes(original), File.ReadAllBytes(output), $"{libstdcxx} has {Weakened}: the output must be TorchSharp's own file.");
        else
            AssertWeakenedOnly(File.ReadAllBytes(original), File.ReadAllBytes(output));
    }

    [TestMethod]
    public void AnAppBuiltForANewerLibStdCxxIsLeftAloneAndRunsThere()
    {
        Trixie.Require();
        var app = ProbeApp.Build("newer-libstdcxx", $"LorenzaLibStdCxx={Trixie.LibStdCxx}");
        Assert.IsFalse(app.BuildOutput.Contains("[lorenza]"), app.BuildOutput);
        StringAssert.Contains(app.DetailedLog, $"[lorenza] {Trixie.LibStdCxx} defines every version {app.LibTorchSharp} needs: not patched.");
        CollectionAssert.AreEqual(File.ReadAllBytes(NuGetOriginal()), File.ReadAllBytes(app.LibTorchSharp), "the output must be TorchSharp's own file");

        var (code, stdout, stderr) = app.RunOnTrixie();
        Assert.AreEqual(0, code, stdout + stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        CollectionAssert.Contains(lines, "doubled: 2,4,6", stdout);
        CollectionAssert.Contains(lines, $"loaded: {app.LibTorchSharp}", stdout);
        Assert.IsTrue(lines.Any(l => l.StartsWith($"loaded: {Trixie.LibDir}/libstdc++.so.6", StringComparison.Ordinal)), $"trixie's libstdc++ is the one loaded:\n{stdout}");
    }

    [TestMethod]
    public void WithoutThePatchTheAppSaysWhyInOneLine()
    {
        TorchRuntime.EnsureLoaded();
        var libstdcxx = LoadedLibraries().First(p => Path.GetFileName(p).StartsWith("libstdc++.so.6", StringComparison.Ordinal));
        if (Defines(libstdcxx, Weakened)) Assert.Inconclusive($"{libstdcxx} has {Weakened}: TorchSharp's own file loads here.");

        var app = ProbeApp.Build("never", "LorenzaPatchLibTorchSharp=never");
        Assert.IsFalse(app.BuildOutput.Contains("[lorenza]"), app.BuildOutput);
        CollectionAssert.AreEqual(File.ReadAllBytes(NuGetOriginal()), File.ReadAllBytes(app.LibTorchSharp), "the output must be TorchSharp's own file");

        var cpu = Path.Combine(app.OutputFolder, "cpu"); // where TorchSharp copies libtorch when its own loading fails
        if (Directory.Exists(cpu)) Directory.Delete(cpu, recursive: true);
        var (code, stdout, stderr) = app.Run();
        Console.WriteLine($"the app printed: {stderr.TrimEnd()}");
        Assert.AreNotEqual(0, code);
        Assert.AreEqual("", stdout);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.AreEqual(1, lines.Length, $"one line, not TorchSharp's trace:\n{stderr}");
        StringAssert.StartsWith(lines[0], $"error: TorchSharp's {app.LibTorchSharp} needs {Weakened} (GCC 13's libstdc++), but ");
        StringAssert.Contains(lines[0], "Fix: build the app with the Microsoft.ML.Lorenza package's build step");
        StringAssert.Contains(lines[0], "LorenzaPatchLibTorchSharp=always");
        Assert.IsFalse(Directory.Exists(cpu), "TorchSharp must not have started its own search (it copies libtorch into cpu/)");
    }

    [TestMethod]
    public void AlwaysPatchesEvenForANewerLibStdCxxAndTheCopyLoadsOnBoth()
    {
        Trixie.Require();
        var app = ProbeApp.Build("always", "LorenzaPatchLibTorchSharp=always", $"LorenzaLibStdCxx={Trixie.LibStdCxx}");
        StringAssert.Contains(app.BuildOutput, $"[lorenza] LorenzaPatchLibTorchSharp=always: wrote {app.LibTorchSharp} with {Weakened} marked weak (no relocation uses its symbols).");
        AssertWeakenedOnly(File.ReadAllBytes(NuGetOriginal()), File.ReadAllBytes(app.LibTorchSharp));
        AssertNuGetCacheUnchanged(NuGetOriginal());

        foreach (var (where, (code, stdout, stderr)) in new[] { ("this machine", app.Run()), ("trixie", app.RunOnTrixie()) })
        {
            Assert.AreEqual(0, code, $"{where}: {stdout}{stderr}");
            StringAssert.Contains(stdout, "doubled: 2,4,6", where);
        }
    }

    /// <summary>
    /// The patched file is the original but for the flags of the GLIBCXX_3.4.32 requirement, which now say weak
    /// (read with this folder's own ELF reader; the offsets come from the file, not from the task).
    /// </summary>
    private static void AssertWeakenedOnly(byte[] original, byte[] patched)
    {
        Assert.AreEqual(original.Length, patched.Length);
        static VersionNeed Requirement(byte[] elf) => VersionNeed.ReadAll(elf).Single(n => n.File == "libstdc++.so.6" && n.Version == Weakened);
        Assert.IsFalse(Requirement(original).Weak, "TorchSharp's own file requires it");
        var weakened = Requirement(patched);
        Assert.IsTrue(weakened.Weak, "the patched copy marks it weak");
        var changed = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToList();
        Assert.IsTrue(changed.Count > 0 && changed.All(i => i == weakened.FlagsOffset || i == weakened.FlagsOffset + 1),
                      $"bytes changed at {string.Join(", ", changed.Take(10).Select(i => $"0x{i:x}"))}; only vna_flags at 0x{weakened.FlagsOffset:x} may change");
        Assert.AreEqual(VersionNeed.ReadAll(original).Count(n => n.Weak) + 1, VersionNeed.ReadAll(patched).Count(n => n.Weak), "one requirement more is weak");
    }

    /// <summary>TorchSharp's libLibTorchSharp.so in the NuGet cache (NUGET_PACKAGES, else ~/.nuget/packages).</summary>
    private static string NuGetOriginal()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p
            ? p : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var path = Path.Combine(packages, "torchsharp", TorchRuntime.TorchSharpVersion, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.IsTrue(File.Exists(path), $"{path} is missing");
        return path;
    }

    /// <summary>The NuGet cache's file still holds the bytes of the package it was extracted from.</summary>
    private static void AssertNuGetCacheUnchanged(string original)
    {
        var package = Path.Combine(original, "..", "..", "..", "..", $"torchsharp.{TorchRuntime.TorchSharpVersion}.nupkg");
        if (!File.Exists(package))
        {
            // Without the .nupkg, check at least that the requirement is still as TorchSharp ships it.
            Assert.IsFalse(VersionNeed.ReadAll(File.ReadAllBytes(original)).Single(n => n.Version == Weakened).Weak, $"{original} has been patched");
            return;
        }
        using var zip = ZipFile.OpenRead(package);
        using var entry = zip.GetEntry("runtimes/linux-x64/native/libLibTorchSharp.so")!.Open();
        using var packed = new MemoryStream();
        entry.CopyTo(packed);
        CollectionAssert.AreEqual(packed.ToArray(), File.ReadAllBytes(original), $"{original} differs from its package {Path.GetFullPath(package)}");
    }

    /// <summary>The files this process has mapped (/proc/self/maps).</summary>
    private static List<string> LoadedLibraries() =>
        File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length == 6 && f[5].StartsWith('/')).Select(f => f[5].Trim()).Distinct().ToList();

    /// <summary>True when the library defines the version (its name is in the library's dynamic strings).</summary>
    private static bool Defines(string library, string version) =>
        File.ReadAllBytes(library).AsSpan().IndexOf(System.Text.Encoding.ASCII.GetBytes(version + "\0")) >= 0;
}
