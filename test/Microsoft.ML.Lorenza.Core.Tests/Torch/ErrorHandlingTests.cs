using System.Runtime.InteropServices;
using Microsoft.ML.Lorenza.Runtime;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Tests.Torch;

/// <summary>libtorch errors surface as .NET exceptions with libtorch's text, the process survives, and device names are checked.</summary>
[TestClass]
public sealed class ErrorHandlingTests
{
    [TestMethod]
    public void ShapeMismatchNamesTheShapesAndTheProcessSurvives()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.zeros([2, 3]);
        var b = torch.zeros([4, 5]);
        var e = Assert.ThrowsExactly<ExternalException>(() => torch.mm(a, b));
        StringAssert.Contains(e.Message, "2x3");
        StringAssert.Contains(e.Message, "4x5");
        // TorchSharp is still usable after the error.
        Assert.AreEqual(0f, torch.mm(a, torch.zeros([3, 1])).sum().item<float>());
    }

    [TestMethod]
    public void ErrorsOnManyThreadsKeepTheirOwnMessages()
    {
        var messages = new string[8];
        Parallel.For(0, messages.Length, i =>
        {
            using var scope = torch.NewDisposeScope();
            var a = torch.zeros([i + 1, 2]);
            try { torch.mm(a, torch.zeros([3, 1])); }
            catch (ExternalException e) { messages[i] = e.Message; }
        });
        for (var i = 0; i < messages.Length; i++)
            StringAssert.Contains(messages[i], $"{i + 1}x2", $"thread {i}");
    }

    [TestMethod]
    public void UsingADisposedTensorThrowsInsteadOfCrashing()
    {
        var t = torch.zeros([2]);
        t.Dispose();
        Assert.Throws<InvalidOperationException>(() => t.add(1));
        t.Dispose(); // twice is fine
    }

    [TestMethod]
    public void WrongElementTypeAndSizeAreRejected()
    {
        using var scope = torch.NewDisposeScope();
        var t = torch.zeros([3]);
        Assert.Throws<ArgumentException>(() => t.ToArray<double>());
        Assert.Throws<ArgumentException>(() => torch.tensor(new float[5], [2, 3]));
    }

    [TestMethod]
    public void CudaIsReportedUnavailableWithAClearMessage()
    {
        if (TorchRuntime.CudaAvailable) Assert.Inconclusive("A CUDA device is present; this checks the CPU-only message.");
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => ComputeDevice.Parse("cuda").Resolve());
        StringAssert.Contains(e.Message, "CUDA is not available");
        StringAssert.Contains(e.Message, "TorchSharp-cuda-linux");
        StringAssert.Contains(e.Message, "'cpu'");
        Assert.AreEqual(DeviceType.CPU, ComputeDevice.Auto.Resolve().type);
        Assert.AreEqual(0, TorchRuntime.CudaDeviceCount);
    }

    [TestMethod]
    public void BadDeviceNamesAreRefusedWithTheAcceptedForms()
    {
        foreach (var bad in new[] { "tpu", "gpu", "cuda:", "cuda:-1", "cuda:x", "" })
        {
            var e = Assert.ThrowsExactly<ArgumentException>(() => ComputeDevice.Parse(bad), bad);
            StringAssert.Contains(e.Message, $"'{bad}'");
            StringAssert.Contains(e.Message, "'cpu', 'cuda' or 'cuda:N'");
        }
        Assert.AreEqual(ComputeDevice.Cuda(1), ComputeDevice.Parse(" CUDA:1 "));
        Assert.AreEqual("cuda:0", ComputeDevice.Parse("cuda").ToString());
        Assert.AreEqual(ComputeDevice.Cpu, (ComputeDevice)"cpu", "a string converts");
        Assert.AreEqual("cpu", Devices.Describe(ComputeDevice.Cpu.Resolve()));
    }
}
