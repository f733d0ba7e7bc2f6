using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Tests.Optimizers;

/// <summary>An optimizer is a value of <see cref="OptimizerAlgorithm"/> and its entry in <see cref="OptimizerFactory.Kinds"/>: neither without the other.</summary>
[TestClass]
public sealed class OptimizerRegistryTests
{
    [TestMethod]
    public void EveryOptimizerAlgorithm_HasOneRegistryEntry_InTheEnumsOrder()
    {
        CollectionAssert.AreEqual(Enum.GetValues<OptimizerAlgorithm>(), OptimizerFactory.Kinds.Select(k => k.Algorithm).ToArray(),
            "OptimizerFactory.Kinds: one entry per OptimizerAlgorithm value, in its order");
        foreach (var algorithm in Enum.GetValues<OptimizerAlgorithm>())
        {
            Assert.AreEqual(algorithm, OptimizerFactory.Of(algorithm).Algorithm);
            Assert.AreSame(OptimizerFactory.Of(algorithm), OptimizerFactory.Find(algorithm.Name), "found by its name");
        }
        StringAssert.Contains(Assert.Throws<ArgumentException>(() => OptimizerFactory.Of((OptimizerAlgorithm)42)).Message, "Optimizer = '42' is unknown");
    }

    [TestMethod]
    public void TheNames_AreTheOnesTheCliAndSavedModelsUse() =>
        // --optimizer's spellings, lorenza.json's "optimizer" and the checkpoint fingerprint: they must not change.
        CollectionAssert.AreEqual(new[] { "lorenza", "adazosam", "galore", "sam", "adamw", "lora" }, OptimizerFactory.Names.ToArray());
}
