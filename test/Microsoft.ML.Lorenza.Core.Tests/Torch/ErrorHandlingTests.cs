using Microsoft.ML.Lorenza.Torch;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Torch;

/// <summary>libtorch errors surface as .NET exceptions with libtorch's text, and the process survives.</summary>
[TestClass]
public sealed class ErrorHandlingTests
{
    [TestMethod]
    public void ShapeMismatchNamesTheShapesAndTheProcessSurvives()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.zeros([2, 3]);
        var b = torch.zeros([4, 5]);
        var e = Assert.ThrowsExactly<TorchException>(() => torch.mm(a, b));
        StringAssert.Contains(e.Message, "2x3");
        StringAssert.Contains(e.Message, "4x5");
        StringAssert.Contains(e.Message, "aten::mm");
        // The binding is still usable after the error.
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
            catch (TorchException e) { messages[i] = e.Message; }
        });
        for (var i = 0; i < messages.Length; i++)
            StringAssert.Contains(messages[i], $"{i + 1}x2", $"thread {i}");
    }

    [TestMethod]
    public void UsingADisposedTensorThrowsObjectDisposed()
    {
        var t = torch.zeros([2]);
        t.Dispose();
        Assert.ThrowsExactly<ObjectDisposedException>(() => t.add(1));
        t.Dispose(); // twice is fine
    }

    [TestMethod]
    public void WrongElementTypeAndSizeAreRejectedWithTheFix()
    {
        using var scope = torch.NewDisposeScope();
        var t = torch.zeros([3]);
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => t.ToArray<double>());
        StringAssert.Contains(e.Message, ".to(ScalarType.Float64)");
        Assert.ThrowsExactly<ArgumentException>(() => torch.tensor(new float[5], [2, 3]));
        Assert.ThrowsExactly<ArgumentException>(() => t.CopyFrom<float>(new float[4]));
    }

    [TestMethod]
    public void CudaIsReportedUnavailableWithAClearMessage()
    {
        if (TorchRuntime.CudaAvailable) Assert.Inconclusive("A CUDA device is present; this checks the CPU-only message.");
        using var scope = torch.NewDisposeScope();
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => torch.zeros([2]).to(Device.Cuda));
        StringAssert.Contains(e.Message, "CUDA is not available");
        Assert.AreEqual(0, torch.cuda.device_count());
    }

    [TestMethod]
    public void UnknownOperatorAndBadDeviceStringsAreClear()
    {
        var e = Assert.ThrowsExactly<TorchException>(() => torch.ops("aten::no_such_op").Call(Arg.None));
        StringAssert.Contains(e.Message, "aten::no_such_op");
        Assert.IsFalse(torch.ops("aten::no_such_op").Exists);
        var d = Assert.ThrowsExactly<ArgumentException>(() => Device.Parse("tpu"));
        StringAssert.Contains(d.Message, "'tpu'");
        Assert.AreEqual(new Device(DeviceType.Cuda, 1), Device.Parse("cuda:1"));
    }

    [TestMethod]
    public void EveryOperatorTheProjectUsesExistsInThisLibtorch()
    {
        var missing = typeof(Aten).GetFields()
            .Select(f => (Op)f.GetValue(null)!)
            .Where(op => op.Name != "aten::scaled_dot_product_attention") // libtorch ≥ 2.0 only; callers check Exists
            .Where(op => !op.Exists)
            .Select(op => op.FullName)
            .ToList();
        Assert.AreEqual(0, missing.Count, "missing: " + string.Join(", ", missing));
    }
}
