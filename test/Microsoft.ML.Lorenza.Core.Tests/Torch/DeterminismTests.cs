using Microsoft.ML.Lorenza.Torch;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Torch;

/// <summary>Seeded random numbers reproduce exactly; generator state round-trips (for checkpoints).</summary>
[TestClass]
public sealed class DeterminismTests
{
    [TestMethod]
    public void SameSeedGivesIdenticalSamples()
    {
        using var scope = torch.NewDisposeScope();
        using var g1 = new Generator(2026);
        using var g2 = new Generator(2026);
        var a = torch.randn([64, 32], g1);
        var b = torch.randn([64, 32], g2);
        Assert.IsTrue(a.equal(b));
        using var g3 = new Generator(2027);
        Assert.IsFalse(a.equal(torch.randn([64, 32], g3)));
    }

    [TestMethod]
    public void ManualSeedMakesDropoutReproducible()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.ones([1000]);
        torch.manual_seed(5);
        var first = torch.nn.functional.dropout(x, 0.3);
        torch.manual_seed(5);
        var second = torch.nn.functional.dropout(x, 0.3);
        Assert.IsTrue(first.equal(second));
        var kept = first.ne(0).sum().item<long>();
        Assert.IsTrue(kept is > 600 and < 800, $"kept {kept} of 1000 at p = 0.3");
    }

    [TestMethod]
    public void GeneratorStateRestoresTheSameStream()
    {
        using var scope = torch.NewDisposeScope();
        using var g = new Generator(11);
        torch.randn([10], g);
        var state = g.get_state();
        var next = torch.randn([10], g);
        g.set_state(state);
        Assert.IsTrue(next.equal(torch.randn([10], g)));
    }

    [TestMethod]
    public void ComputationIsBitIdenticalAcrossRuns()
    {
        float[] Run()
        {
            using var scope = torch.NewDisposeScope();
            using var g = new Generator(99);
            var w = torch.randn([128, 256], g).requires_grad_();
            var x = torch.randn([32, 128], g);
            var loss = torch.nn.functional.gelu(torch.matmul(x, w)).pow(2).mean();
            loss.backward();
            return w.grad!.ToArray<float>();
        }
        CollectionAssert.AreEqual(Run(), Run());
    }
}
