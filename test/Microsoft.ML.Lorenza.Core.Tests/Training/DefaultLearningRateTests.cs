using System.Reflection;
using Microsoft.ML.Lorenza.Configuration;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Training;

/// <summary>
/// A null learning rate means the default of the optimizer's family and the start (issue #33: one rate for every
/// optimizer left LORENZA underfitting at its own defaults); `--help` states the defaults as the code has them.
/// </summary>
[TestClass]
public sealed class DefaultLearningRateTests
{
    [TestMethod]
    public void EachFamilyHasItsOwnDefault_AndTheRunUsesItsOptimizers()
    {
        foreach (var kind in OptimizerFactory.Kinds)
            foreach (var pretrained in new[] { true, false })
                Assert.IsTrue(TrainingOptions.DefaultLearningRate(kind.Algorithm, pretrained) is > 0 and < 1, $"{kind.Name}, pretrained {pretrained}");
        // The low-rank step lives in an r-dimensional subspace: LORENZA and GaLore share a default above full-rank Adam's.
        Assert.AreEqual(TrainingOptions.DefaultLearningRate(OptimizerAlgorithm.GaLore, true), TrainingOptions.DefaultLearningRate(OptimizerAlgorithm.Lorenza, true));
        Assert.IsGreaterThan(TrainingOptions.DefaultLearningRate(OptimizerAlgorithm.AdamW, true), TrainingOptions.DefaultLearningRate(OptimizerAlgorithm.Lorenza, true));
        Assert.AreEqual(TrainingOptions.DefaultLearningRate(OptimizerAlgorithm.AdamW, true), TrainingOptions.DefaultLearningRate(OptimizerAlgorithm.Sam, true), "SAM is full-rank Adam's family");

        var lorenza = new TrainingOptions();
        Assert.AreEqual(TrainingOptions.DefaultLearningRate(OptimizerAlgorithm.Lorenza, pretrained: true), lorenza.PeakLearningRate);
        StringAssert.Contains(lorenza.DescribeLearningRate(), "lorenza's default for fine-tuning");
        var adamw = new TrainingOptions { Optimizer = { Algorithm = OptimizerAlgorithm.AdamW } };
        Assert.AreEqual(TrainingOptions.DefaultLearningRate(OptimizerAlgorithm.AdamW, pretrained: true), adamw.PeakLearningRate);
        var scratch = new TrainingOptions { Model = { PretrainedModelPath = null, Preset = ModelPreset.Tiny } };
        Assert.AreEqual(TrainingOptions.DefaultLearningRate(OptimizerAlgorithm.Lorenza, pretrained: false), scratch.PeakLearningRate);
        var given = new TrainingOptions { Optimizer = { LearningRate = 5e-4 } };
        Assert.AreEqual(5e-4, given.PeakLearningRate);
        Assert.AreEqual("lr 5e-4", given.DescribeLearningRate());
    }

    [TestMethod]
    public void TheHelpStatesTheDefaultsTheCodeUses()
    {
        var help = typeof(OptimizerOptions).GetProperty(nameof(OptimizerOptions.LearningRate))!.GetCustomAttribute<OptionAttribute>()!.Help;
        StringAssert.Contains(help, TrainingOptions.DescribeDefaultLearningRates());
        var (code, stdout, stderr) = Support.Cli.Run("train --help");
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stdout.Replace("\n", " ").Replace("  ", " "), "default: fine-tuning");
    }
}
