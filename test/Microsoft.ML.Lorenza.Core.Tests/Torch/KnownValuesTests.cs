using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Lorenza.Tests.Torch;

/// <summary>Operator results against values worked out by hand (closed forms).</summary>
[TestClass]
public sealed class KnownValuesTests
{
    private const double Tolerance = 1e-12;

    private static void AssertClose(double[] expected, Tensor actual, double tolerance = Tolerance)
    {
        var got = actual.to(ScalarType.Float64).ToArray<double>();
        Assert.AreEqual(expected.Length, got.Length, "element count");
        for (var k = 0; k < expected.Length; k++)
            Assert.AreEqual(expected[k], got[k], tolerance, $"element {k}");
    }

    [TestMethod]
    public void SoftmaxOfZeroAndLogTwoIsOneThirdTwoThirds()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(new double[] { 0, Math.Log(2) });
        AssertClose([1.0 / 3, 2.0 / 3], F.softmax(x, -1));
        AssertClose([Math.Log(1.0 / 3), Math.Log(2.0 / 3)], F.log_softmax(x, -1));
    }

    [TestMethod]
    public void GeluIsTheExactErfForm()
    {
        using var scope = torch.NewDisposeScope();
        // gelu(x) = x·Φ(x); Φ(1) = 0.8413447460685429, Φ(-2) = 0.022750131948179195
        var x = torch.tensor(new double[] { 0, 1, -2 });
        AssertClose([0, 0.8413447460685429, -2 * 0.022750131948179195], F.gelu(x));
    }

    [TestMethod]
    public void LayerNormStandardizesThenScalesAndShifts()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(new double[] { 1, 2, 3 }, [1, 3]);
        var w = torch.tensor(new double[] { 2, 2, 2 });
        var b = torch.tensor(new double[] { 1, 1, 1 });
        // mean 2, biased variance 2/3 → (x - 2)/sqrt(2/3 + eps)
        var s = Math.Sqrt(2.0 / 3 + 1e-5);
        AssertClose([1 - 2 / s, 1, 1 + 2 / s], F.layer_norm(x, [3], w, b));
    }

    [TestMethod]
    public void CrossEntropyIsMeanNegativeLogSoftmaxOfTarget()
    {
        using var scope = torch.NewDisposeScope();
        var logits = torch.tensor(new double[] { 0, 0, 1, 2 }, [2, 2]);
        var target = torch.tensor(new long[] { 1, 0 });
        var expected = (Math.Log(2) + (Math.Log(Math.Exp(1) + Math.Exp(2)) - 1)) / 2;
        AssertClose([expected], F.cross_entropy(logits, target));
    }

    [TestMethod]
    public void QrAndSvdReconstructTheMatrix()
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(7);
        var a = torch.randn([6, 4], ScalarType.Float64, generator: g);
        var (q, r) = torch.linalg.qr(a);
        Assert.IsTrue(torch.matmul(q, r).allclose(a, 0, 1e-12), "Q·R = A");
        Assert.IsTrue(torch.matmul(q.t(), q).allclose(torch.eye(4, dtype: ScalarType.Float64), 0, 1e-12), "QᵀQ = I");
        var (u, s, vh) = torch.linalg.svd(a, fullMatrices: false);
        Assert.IsTrue(torch.matmul(u * s, vh).allclose(a, 0, 1e-12), "U·diag(S)·Vh = A");
        var values = s.ToArray<double>();
        for (var k = 1; k < values.Length; k++) Assert.IsTrue(values[k - 1] >= values[k], "singular values descend");
    }

    [TestMethod]
    public void InPlaceOpsUpdateTheSameTensor()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor(new double[] { 1, 2 });
        var b = torch.tensor(new double[] { 3, 4 });
        var c = torch.tensor(new double[] { 2, 8 });
        Assert.AreSame(a, a.add_(b, alpha: 2));           // [7, 10]
        a.mul_(0.5);                                       // [3.5, 5]
        a.addcmul_(b, c, value: 0.5);                      // + 0.5·[6, 32] = [6.5, 21]
        a.addcdiv_(b, c, value: 2);                        // + 2·[1.5, 0.5] = [9.5, 22]
        AssertClose([9.5, 22], a);
        a.lerp_(b, 0.5);                                   // (a + b)/2 = [6.25, 13]
        AssertClose([6.25, 13], a);
    }

    [TestMethod]
    public void ReductionsAndNorms()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor(new double[] { 3, -4, 0, 12 }, [2, 2]);
        AssertClose([11], a.sum());
        AssertClose([-1, 12], a.sum(1));
        AssertClose([2.75], a.mean());
        AssertClose([13], a.norm());
        AssertClose([12], a.max());
        Assert.AreEqual(3L, a.argmax().item<long>());
    }

    [TestMethod]
    public void EmbeddingAndMaskedFill()
    {
        using var scope = torch.NewDisposeScope();
        var w = torch.tensor(new double[] { 0, 1, 10, 11, 20, 21 }, [3, 2]);
        AssertClose([20, 21, 0, 1], w.index_select(0, torch.tensor(new long[] { 2, 0 })));
        using var embedding = nn.Embedding_from_pretrained(w);
        AssertClose([20, 21, 0, 1], embedding.call(torch.tensor(new long[] { 2, 0 })));
        var mask = torch.tensor(new[] { true, false, false, true, false, true }, [3, 2]);
        AssertClose([-1, 1, 10, -1, 20, -1], w.masked_fill(mask, -1));
    }

    [TestMethod]
    public void DtypeConversionsRoundTrip()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(new float[] { 1.5f, -2.25f, 3 });
        foreach (var type in new[] { ScalarType.Float16, ScalarType.BFloat16, ScalarType.Float64, ScalarType.Int32, ScalarType.Int64, ScalarType.Bool })
            Assert.AreEqual(type, x.to(type).dtype);
        CollectionAssert.AreEqual(new float[] { 1.5f, -2.25f, 3 }, x.to(ScalarType.BFloat16).to(ScalarType.Float32).ToArray<float>(), "exactly representable in bf16");
        CollectionAssert.AreEqual(new[] { 1, -2, 3 }, x.to(ScalarType.Int32).ToArray<int>());
        CollectionAssert.AreEqual(new[] { true, true, true }, x.to(ScalarType.Bool).ToArray<bool>());
    }
}
