namespace Microsoft.ML.Lorenza.Configuration;

/// <summary>The validation metric early stopping watches.</summary>
public enum EarlyStoppingMetric
{
    Accuracy,
    MacroF1,
    LogLoss,
}

/// <summary>The train loop: how long, in what batches, from what seed, when to stop early, and its checkpoints.</summary>
public sealed class LoopOptions
{
    [Option("--epochs", "passes over the training data", MlNetName = "MaxEpochs")]
    public int Epochs { get; set; } = 3;
    [Option("--batch-size", "examples per optimizer step")]
    public int BatchSize { get; set; } = 32;
    /// <summary>Micro-batches per optimizer step (each batch is split; gradients accumulate). 1: none.</summary>
    [Option("--grad-accumulation", "micro-batches per step (gradients accumulate)", MlNetName = "GradientAccumulation")]
    public int GradientAccumulation { get; set; } = 1;
    /// <summary>Stop training after this many optimizer steps (null: all epochs).</summary>
    [Option("--max-steps", "stop after this many optimizer steps")]
    public int? MaxSteps { get; set; }
    [Option("--seed", "seeds initialization, data order, dropout and the optimizer's probes")]
    public ulong Seed { get; set; }
    /// <summary>Stop when this validation metric has not improved for <see cref="Patience"/> epochs (null: off).</summary>
    [Option("--early-stopping-metric", "stop when this validation metric stops improving")]
    public EarlyStoppingMetric? EarlyStoppingMetric { get; set; }
    [Option("--patience", "epochs without improvement before early stopping")]
    public int Patience { get; set; } = 2;
    /// <summary>Write a checkpoint every this many optimizer steps (null: never).</summary>
    [Option("--checkpoint-every", "write <output>/checkpoint.safetensors every N steps (atomic)", OnlyCommand = "train")]
    public int? CheckpointEvery { get; set; }
    /// <summary>Folder of the checkpoint file (the CLI uses the output folder).</summary>
    [Option(null, "folder of checkpoint.safetensors", NotInCli = "the output folder, --output")]
    public string? CheckpointDirectory { get; set; }
    /// <summary>Continue from the checkpoint in <see cref="CheckpointDirectory"/>.</summary>
    [Option("--resume", "continue from <output>/checkpoint.safetensors (same command and data): ends bit-identical to an uninterrupted run", OnlyCommand = "train")]
    public bool Resume { get; set; }

    public void Validate()
    {
        OptionCheck.That(Epochs >= 1, nameof(Epochs), Epochs, ">= 1");
        OptionCheck.That(BatchSize >= 1, nameof(BatchSize), BatchSize, ">= 1");
        OptionCheck.That(CheckpointEvery is null or >= 1, nameof(CheckpointEvery), CheckpointEvery ?? 0, ">= 1 or null");
        if ((CheckpointEvery is not null || Resume) && string.IsNullOrEmpty(CheckpointDirectory))
            throw new ArgumentException("Checkpoints need a CheckpointDirectory (the CLI uses --output).");
        OptionCheck.That(MaxSteps is null or >= 1, nameof(MaxSteps), MaxSteps ?? 0, ">= 1 or null");
        OptionCheck.That(GradientAccumulation >= 1 && GradientAccumulation <= BatchSize, nameof(GradientAccumulation), GradientAccumulation, $"in [1, BatchSize = {BatchSize}]");
        OptionCheck.That(EarlyStoppingMetric is null || Enum.IsDefined(EarlyStoppingMetric.Value), nameof(EarlyStoppingMetric), EarlyStoppingMetric!, "Accuracy, MacroF1, LogLoss or null");
        OptionCheck.That(Patience >= 1, nameof(Patience), Patience, ">= 1");
    }
}
