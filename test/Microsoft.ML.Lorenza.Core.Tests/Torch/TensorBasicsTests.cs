using Microsoft.ML.Lorenza.Runtime;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Tests.Torch;

[TestClass]
public sealed class TensorBasicsTests
{
    [TestMethod]
    public void RoundTripsDataAndShape()
    {
        using var scope = torch.NewDisposeScope();
        var t = torch.tensor(new float[] { 1, 2, 3, 4, 5, 6 }, [2, 3]);
        CollectionAssert.AreEqual(new long[] { 2, 3 }, t.shape);
        Assert.AreEqual(ScalarType.Float32, t.dtype);
        Assert.AreEqual(DeviceType.CPU, t.device_type);
        CollectionAssert.AreEqual(new float[] { 1, 2, 3, 4, 5, 6 }, t.ToArray<float>());
        CollectionAssert.AreEqual(new float[] { 1, 4, 2, 5, 3, 6 }, t.t().ToArray<float>(), "a transposed view reads in its own row-major order");
    }

    [TestMethod]
    public void MatmulMatchesHandComputedValues()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor(new double[] { 1, 2, 3, 4, 5, 6 }, [2, 3]);
        var b = torch.tensor(new double[] { 7, 8, 9, 10, 11, 12 }, [3, 2]);
        // [1 2 3; 4 5 6] x [7 8; 9 10; 11 12] = [58 64; 139 154]
        CollectionAssert.AreEqual(new double[] { 58, 64, 139, 154 }, torch.matmul(a, b).ToArray<double>());
    }
}
