using System.Runtime.InteropServices;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Torch;

/// <summary>The in-process settings (see the process-settings benchmark) are in force once libtorch is loaded.</summary>
[TestClass]
public sealed partial class ProcessTuningTests
{
    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr getenv(string name);

    [TestMethod]
    public void OmpWaitPolicyIsPassiveInTheNativeEnvironment()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("Linux only.");
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is not null || Environment.GetEnvironmentVariable("LORENZA_PROCESS_TUNING") == "0")
            Assert.Inconclusive("The environment overrides the default.");
        var summary = TorchRuntime.ProcessTuningSummary; // loads the binding
        Assert.AreEqual("PASSIVE", Marshal.PtrToStringUTF8(getenv("OMP_WAIT_POLICY")));
        StringAssert.Contains(summary, "OMP_WAIT_POLICY=PASSIVE");
        StringAssert.Contains(summary, "malloc keeps freed buffers");
    }
}
