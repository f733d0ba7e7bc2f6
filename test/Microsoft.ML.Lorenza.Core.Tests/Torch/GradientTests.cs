using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Lorenza.Tests.Torch;

/// <summary>
/// Autograd gradients against central finite differences in float64. Each function is reduced to a
/// scalar as sum(f(x) ⊙ R) with a fixed random R, so every output element's sensitivity is checked.
/// Step h = 1e-6; central differences are O(h²) accurate, so agreement to 1e-7 (relative to the
/// gradient's scale) is expected.
/// </summary>
[TestClass]
public sealed class GradientTests
{
    private const double Step = 1e-6;
    private const double Tolerance = 1e-7;

    private static void CheckGradients(Func<Tensor[], Tensor> f, params long[][] shapes)
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(42);
        var inputs = shapes.Select(s => torch.randn(s, ScalarType.Float64, generator: g).requires_grad_()).ToArray();
        using var probe = f(inputs);
        var weights = torch.randn(probe.shape, ScalarType.Float64, generator: g);
        Tensor Objective(Tensor[] xs) => (f(xs) * weights).sum();

        Objective(inputs).backward();
        for (var i = 0; i < inputs.Length; i++)
        {
            var analytic = inputs[i].grad!.ToArray<double>();
            var values = inputs[i].detach().clone().ToArray<double>();
            var scale = Math.Max(1, analytic.Max(Math.Abs));
            for (var k = 0; k < values.Length; k++)
            {
                double Evaluate(double delta)
                {
                    using var inner = torch.NewDisposeScope();
                    using var noGrad = torch.no_grad();
                    var shifted = (double[])values.Clone();
                    shifted[k] += delta;
                    var xs = inputs.Select((x, j) => j == i ? torch.tensor(shifted, x.shape) : x.detach()).ToArray();
                    return Objective(xs).item<double>();
                }
                var numeric = (Evaluate(Step) - Evaluate(-Step)) / (2 * Step);
                Assert.AreEqual(numeric, analytic[k], Tolerance * scale, $"input {i}, element {k}");
            }
        }
    }

    [TestMethod]
    public void Matmul() => CheckGradients(t => torch.matmul(t[0], t[1]), [3, 4], [4, 2]);

    [TestMethod]
    public void Softmax() => CheckGradients(t => F.softmax(t[0], -1), [3, 5]);

    [TestMethod]
    public void LayerNorm() => CheckGradients(t => F.layer_norm(t[0], [4], t[1], t[2]), [3, 4], [4], [4]);

    [TestMethod]
    public void Gelu() => CheckGradients(t => F.gelu(t[0]), [2, 6]);

    [TestMethod]
    public void CrossEntropy()
    {
        using var target = torch.tensor(new long[] { 2, 0, 1 });
        CheckGradients(t => F.cross_entropy(t[0], target), [3, 4]);
    }

    [TestMethod]
    public void Linear() => CheckGradients(t => F.linear(t[0], t[1], t[2]), [2, 3], [4, 3], [4]);
}
