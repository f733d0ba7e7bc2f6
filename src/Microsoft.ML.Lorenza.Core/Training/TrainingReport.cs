namespace Microsoft.ML.Lorenza.Training;

/// <summary>Progress of a running training, for progress bars and logs.</summary>
public sealed record TrainingProgress(int Epoch, int Epochs, int Step, int TotalSteps, double Loss, double StepsPerSecond, TimeSpan Eta, double LearningRate)
{
    /// <summary>Set on the one report made when an epoch ends (after its evaluation); null on per-step reports.</summary>
    public EpochResult? CompletedEpoch { get; init; }

    /// <summary>
    /// Set on a report of its own, made before the first step, with a line the user should see before training starts
    /// (which weights the pretrained folder lacked and were initialized afresh); its other fields are zero.
    /// </summary>
    public string? Notice { get; init; }

    public static TrainingProgress ForNotice(string notice) => new(0, 0, 0, 0, double.NaN, 0, TimeSpan.Zero, 0) { Notice = notice };
}

/// <summary>One epoch's results.</summary>
public sealed record EpochResult(
    int Epoch, int Step, double TrainLoss, double TrainAccuracy, double ValidationAccuracy, double ValidationMacroF1,
    double ValidationLogLoss, double GeneralizationGap, double LearningRate, double StepsPerSecond,
    IReadOnlyDictionary<string, double> OptimizerDiagnostics);

/// <summary>What a training run did: per-epoch history, final validation metrics, per-step losses.</summary>
public sealed class TrainingReport
{
    public List<EpochResult> Epochs { get; } = new();
    public List<double> StepLosses { get; } = new();
    public ClassificationMetrics? Validation { get; set; }
    public int SkippedSteps { get; set; }
    public int SkippedEmptyTexts { get; set; }
    public int TrainExamples { get; set; }
    public int ValidationExamples { get; set; }
    public string Optimizer { get; set; } = "";
    public long OptimizerStateBytes { get; set; }
    public double SecondsPerStep { get; set; }
    /// <summary>The epoch with the best early-stopping metric (0 when early stopping is off).</summary>
    public int BestEpoch { get; set; }
    public bool StoppedEarly { get; set; }
    /// <summary>Weights of a pretrained model that were not in its folder and start from a fresh initialization (e.g. a new head).</summary>
    public IReadOnlyList<string> FreshlyInitialized { get; set; } = [];
    /// <summary>Each class's weight in the training loss, in label order (null: no class weights, <see cref="Configuration.ClassWeighting.None"/>).</summary>
    public IReadOnlyList<double>? ClassWeights { get; set; }
    /// <summary>Whether some training rows had an example weight other than 1.</summary>
    public bool ExampleWeights { get; set; }
}
