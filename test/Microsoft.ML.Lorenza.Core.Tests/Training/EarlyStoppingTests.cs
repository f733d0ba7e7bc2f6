using Microsoft.ML.Lorenza.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Tests.Training;

/// <summary>The trainer's early stopping on its own: the best epoch per metric, and the stop after `patience` epochs without a better one.</summary>
[TestClass]
public sealed class EarlyStoppingTests
{
    private static EpochResult Epoch(int epoch, double accuracy, double logLoss, double macroF1 = 0) =>
        new(epoch, epoch * 10, 0.5, 0.9, accuracy, macroF1, logLoss, 0.1, 1e-3, 5, new Dictionary<string, double>());

    [TestMethod]
    public void StopsAfterPatienceEpochsWithoutABetterValue()
    {
        var stopping = new EarlyStopping(EarlyStoppingMetric.Accuracy, patience: 2);
        Assert.IsFalse(stopping.Observe(Epoch(1, 0.50, 0.9)));
        Assert.IsFalse(stopping.Observe(Epoch(2, 0.60, 0.8)));
        Assert.IsFalse(stopping.Observe(Epoch(3, 0.60, 0.7)), "equal is not better; one epoch without improvement");
        Assert.IsTrue(stopping.Observe(Epoch(4, 0.58, 0.6)), "two epochs without improvement");
        Assert.AreEqual(2, stopping.BestEpoch);
    }

    [TestMethod]
    public void LogLossIsBetterWhenLower_AndNoMetricNeverStops()
    {
        var stopping = new EarlyStopping(EarlyStoppingMetric.LogLoss, patience: 1);
        Assert.IsFalse(stopping.Observe(Epoch(1, 0.5, 0.9)));
        Assert.IsFalse(stopping.Observe(Epoch(2, 0.4, 0.7)), "accuracy fell, but log-loss improved");
        Assert.IsTrue(stopping.Observe(Epoch(3, 0.9, 0.8)));
        Assert.AreEqual(2, stopping.BestEpoch);

        var off = new EarlyStopping(null, patience: 1);
        Assert.IsFalse(off.Enabled);
        for (var e = 1; e <= 5; e++) Assert.IsFalse(off.Observe(Epoch(e, 0.1, 9)));
    }
}
