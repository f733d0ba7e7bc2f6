using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Training;

/// <summary>
/// Watches one validation metric over the epochs: the best epoch so far, and whether <c>patience</c> epochs have passed
/// without improving on it. Without a metric it never stops training.
/// </summary>
internal sealed class EarlyStopping(EarlyStoppingMetric? metric, int patience)
{
    private double best = double.NegativeInfinity;

    public bool Enabled => metric is not null;

    /// <summary>The epoch with the best value so far (0: none yet).</summary>
    public int BestEpoch { get; private set; }

    /// <summary>Records an epoch's result; true when training should stop after it.</summary>
    public bool Observe(EpochResult epoch)
    {
        if (metric is not { } m) return false;
        var value = m switch { EarlyStoppingMetric.Accuracy => epoch.ValidationAccuracy, EarlyStoppingMetric.MacroF1 => epoch.ValidationMacroF1, _ => -epoch.ValidationLogLoss };
        if (value > best) (best, BestEpoch) = (value, epoch.Epoch);
        return epoch.Epoch - BestEpoch >= patience;
    }
}
