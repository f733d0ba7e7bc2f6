using Microsoft.ML.Lorenza.Runtime;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Runtime;

/// <summary>NativeLibraryCheck turns the loader's many-line message into one line with the fix that applies.</summary>
[TestClass]
public sealed class NativeLibraryCheckTests
{
    private const string Preamble = "Unable to load shared library 'LibTorchSharp' or one of its dependencies. In order to help diagnose loading problems, consider using a tool like strace. If you're using glibc, consider setting the LD_DEBUG environment variable: ";

    private const string App = "/home/user/app/bin/Release/net10.0";

    /// <summary>A .NET 10 DllNotFoundException message as NativeLibrary.Load("LibTorchSharp", …) gives it, with one line from the loader for the real file.</summary>
    private static string LoaderMessage(string realLine) => string.Join('\n',
        Preamble,
        $"{App}/runtimes/linux-x64/native/LibTorchSharp.so: cannot open shared object file: No such file or directory",
        "/usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.12/LibTorchSharp.so: cannot open shared object file: No such file or directory",
        $"{App}/LibTorchSharp.so: cannot open shared object file: No such file or directory",
        realLine,
        "/usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.12/libLibTorchSharp.so: cannot open shared object file: No such file or directory",
        $"{App}/libLibTorchSharp.so: cannot open shared object file: No such file or directory",
        "");

    [TestMethod]
    public void AMissingGlibcxx3432NamesTheLibrariesAndThePatch()
    {
        var line = NativeLibraryCheck.Explain(LoaderMessage(
            $"/lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.32' not found (required by {App}/runtimes/linux-x64/native/libLibTorchSharp.so)"));
        Assert.IsFalse(line.Contains('\n'), line);
        StringAssert.StartsWith(line, $"TorchSharp's {App}/runtimes/linux-x64/native/libLibTorchSharp.so needs GLIBCXX_3.4.32 (GCC 13's libstdc++), but /lib/x86_64-linux-gnu/libstdc++.so.6 is older");
        StringAssert.Contains(line, "Fix: build the app with the Microsoft.ML.Lorenza package's build step");
        StringAssert.Contains(line, "LorenzaPatchLibTorchSharp=always");
        StringAssert.Contains(line, "install libstdc++ from GCC 13 or later");
    }

    [TestMethod]
    public void AVersionTheLibraryCallsIsNotSentToThePatch()
    {
        // Ubuntu 20.04's libstdc++ (GLIBCXX_3.4.28) lacks versions whose symbols libLibTorchSharp.so does call: no patch helps.
        var line = NativeLibraryCheck.Explain(LoaderMessage(
            $"/lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.30' not found (required by {App}/runtimes/linux-x64/native/libLibTorchSharp.so)"));
        Assert.AreEqual($"TorchSharp's native library does not load: {App}/runtimes/linux-x64/native/libLibTorchSharp.so needs GLIBCXX_3.4.30, which /lib/x86_64-linux-gnu/libstdc++.so.6 lacks. "
                        + "Fix: run the app on a newer Linux, or install a libstdc++.so.6 that has GLIBCXX_3.4.30.", line);

        var glibc = NativeLibraryCheck.Explain(LoaderMessage(
            $"/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found (required by {App}/runtimes/linux-x64/native/libLibTorchSharp.so)"));
        StringAssert.Contains(glibc, "needs GLIBC_2.34, which /lib/x86_64-linux-gnu/libc.so.6 lacks");
        Assert.IsFalse(glibc.Contains("patched copy"), glibc);
    }

    [TestMethod]
    public void ADependencyThatDoesNotLoadIsNamedNotBlamedOnAMissingPackage()
    {
        // libtorch_cpu.so is there (next to libLibTorchSharp.so) but this libstdc++ is older than the one libtorch needs.
        var line = NativeLibraryCheck.Explain(LoaderMessage(
            $"/lib64/libstdc++.so.6: version `GLIBCXX_3.4.26' not found (required by {App}/runtimes/linux-x64/native/libtorch_cpu.so)"));
        StringAssert.StartsWith(line, $"TorchSharp's native library does not load: {App}/runtimes/linux-x64/native/libtorch_cpu.so needs GLIBCXX_3.4.26, which /lib64/libstdc++.so.6 lacks.");
    }

    [TestMethod]
    public void OtherLoaderErrorsAreQuotedAndAMissingLibraryNamesThePackage()
    {
        var damaged = NativeLibraryCheck.Explain(LoaderMessage($"{App}/runtimes/linux-x64/native/libLibTorchSharp.so: invalid ELF header"));
        Assert.AreEqual($"TorchSharp's native library does not load: {App}/runtimes/linux-x64/native/libLibTorchSharp.so: invalid ELF header", damaged);

        const string AddThePackage = "TorchSharp's native library (libLibTorchSharp) is not in the app: add the TorchSharp-cpu package (or TorchSharp-cuda-linux / TorchSharp-cuda-windows for CUDA).";
        Assert.AreEqual(AddThePackage, NativeLibraryCheck.Explain(LoaderMessage(
            $"{App}/runtimes/linux-x64/native/libLibTorchSharp.so: cannot open shared object file: No such file or directory")));
        // Windows says it in one line.
        Assert.AreEqual(AddThePackage, NativeLibraryCheck.Explain("Unable to load DLL 'LibTorchSharp' or one of its dependencies: The specified module could not be found. (0x8007007E)"));
    }

    [TestMethod]
    public void ThereIsNoProblemInThisProcess() => Assert.IsNull(NativeLibraryCheck.Problem());
}
