using System.Text.Json;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Lorenza.Tests.Torch;

/// <summary>
/// The same float64 inputs through TorchSharp (libtorch 2.10) and through Debian's PyTorch 1.13
/// (test/reference/ops_reference.py): the operators the engine uses, with the argument order, defaults and
/// dtype handling of TorchSharp's front end. Tolerance 1e-12 relative.
/// </summary>
[TestClass]
public sealed class PyTorchReferenceTests
{
    private sealed record Case(string Op, double[][] Inputs, long[][] Shapes, Func<Tensor[], Tensor> Ours);

    private static Tensor EmbeddingOf(Tensor weight, Tensor indices)
    {
        using var embedding = nn.Embedding_from_pretrained(weight);
        return embedding.call(indices);
    }

    [TestMethod]
    public void OpsMatchPyTorchOnTheSameInputs()
    {
        var random = new Random(1234);
        double[] Values(int n) => Enumerable.Range(0, n).Select(_ => random.NextDouble() * 4 - 2).ToArray();
        double[] Positive(int n) => Enumerable.Range(0, n).Select(_ => random.NextDouble() + 0.5).ToArray();

        var cases = new List<Case>
        {
            new("matmul", [Values(12), Values(20)], [[3, 4], [4, 5]], t => torch.matmul(t[0], t[1])),
            new("softmax", [Values(12)], [[3, 4]], t => F.softmax(t[0], -1)),
            new("log_softmax", [Values(12)], [[3, 4]], t => F.log_softmax(t[0], -1)),
            new("layer_norm", [Values(15), Values(5), Values(5)], [[3, 5], [5], [5]], t => F.layer_norm(t[0], [5], t[1], t[2])),
            new("gelu", [Values(10)], [[10]], t => F.gelu(t[0])),
            new("tanh", [Values(10)], [[10]], t => F.tanh(t[0])),
            new("cross_entropy", [Values(12), [2, 0, 3]], [[3, 4], [3]], t => F.cross_entropy(t[0], t[1].to(ScalarType.Int64))),
            new("masked_fill", [Values(6), [1, 0, 0, 1, 1, 0]], [[2, 3], [2, 3]], t => t[0].masked_fill(t[1].to(ScalarType.Bool), -3.5)),
            new("sum_dim", [Values(12)], [[3, 4]], t => t[0].sum(1)),
            new("mean", [Values(12)], [[3, 4]], t => t[0].mean()),
            new("norm", [Values(12)], [[3, 4]], t => t[0].norm()),
            new("addcdiv", [Values(6), Values(6), Positive(6)], [[6], [6], [6]], t => t[0].clone().addcdiv_(t[1], t[2], 0.25)),
            new("addcmul", [Values(6), Values(6), Values(6)], [[6], [6], [6]], t => t[0].clone().addcmul_(t[1], t[2], -0.5)),
            new("embedding", [Values(12), [3, 0, 2, 2]], [[4, 3], [4]], t => EmbeddingOf(t[0], t[1].to(ScalarType.Int64))),
            new("linear", [Values(8), Values(12), Values(3)], [[2, 4], [3, 4], [3]], t => F.linear(t[0], t[1], t[2])),
            new("svd_values", [Values(20)], [[5, 4]], t => torch.linalg.svd(t[0], false).S),
        };

        var request = new
        {
            cases = cases.Select(c => new { op = c.Op, inputs = c.Inputs.Select((d, k) => new { data = d, shape = c.Shapes[k] }) }),
        };
        using var reply = PythonReference.RunScript("ops_reference.py", request);
        var results = reply.RootElement.GetProperty("results");

        for (var k = 0; k < cases.Count; k++)
        {
            using var scope = torch.NewDisposeScope();
            var c = cases[k];
            var inputs = c.Inputs.Select((d, i) => torch.tensor(d, c.Shapes[i])).ToArray();
            var ours = c.Ours(inputs);
            var expected = results[k].GetProperty("data").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            var expectedShape = results[k].GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            CollectionAssert.AreEqual(expectedShape, ours.shape, $"{c.Op}: shape");
            var got = ours.ToArray<double>();
            for (var i = 0; i < expected.Length; i++)
                Assert.AreEqual(expected[i], got[i], 1e-12 * Math.Max(1, Math.Abs(expected[i])), $"{c.Op}[{i}]");
        }
    }
}
