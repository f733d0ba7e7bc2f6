using System.Runtime.InteropServices;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Torch;

/// <summary>The in-process setting (see the process-settings benchmark) is in force once libtorch is loaded.</summary>
[TestClass]
public sealed partial class ProcessTuningTests
{
    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr getenv(string name);

    [TestMethod]
    public void MallocKeepsFreedBuffersAndTheOpenMPWaitPolicyIsLibgompsDefault()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("Linux only.");
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is not null || Environment.GetEnvironmentVariable("GLIBC_TUNABLES") is not null
            || Environment.GetEnvironmentVariable("LORENZA_PROCESS_TUNING") == "0")
            Assert.Inconclusive("The environment overrides the defaults.");
        TorchRuntime.EnsureLoaded();
        var summary = TorchRuntime.ProcessTuningSummary;
        StringAssert.Contains(summary, "malloc keeps freed buffers");
        Assert.AreEqual(IntPtr.Zero, getenv("OMP_WAIT_POLICY"), "no wait policy is forced on libgomp (PASSIVE slowed the demo by 20-35 %)");
        Assert.IsFalse(summary.Contains("OMP_WAIT_POLICY"), summary);
    }
}
