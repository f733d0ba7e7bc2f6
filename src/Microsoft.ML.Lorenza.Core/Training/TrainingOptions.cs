using Microsoft.ML.Lorenza.Optimizers;

namespace Microsoft.ML.Lorenza.Training;

/// <summary>Everything a training run needs besides the data. Defaults suit fine-tuning a small model.</summary>
public sealed class TrainingOptions
{
    /// <summary>
    /// A pretrained model to fine-tune: a name ("minilm", fetched and converted on first use: PretrainedModels) or a Hugging
    /// Face folder: RoBERTa (config.json, weights, vocab.json, merges.txt) or BERT (config.json with model_type "bert",
    /// weights, vocab.txt); null: random init of the RoBERTa <see cref="Preset"/>.
    /// </summary>
    public string? PretrainedModelPath { get; set; }
    /// <summary>RoBERTa architecture for random initialization: tiny, small or base.</summary>
    public string Preset { get; set; } = "tiny";
    /// <summary>Merges of the byte-level BPE learned from the training texts when no pretrained vocabulary is given.</summary>
    public int TokenizerMerges { get; set; } = 2000;

    /// <summary>
    /// The classes in output order (null: the distinct training labels in ordinal order). Set it when the
    /// class list is known beforehand, so that labels without training examples still get an output.
    /// </summary>
    public IReadOnlyList<string>? Labels { get; set; }
    /// <summary>Train on labels that look continuous (many distinct numbers) as classes anyway; otherwise they are refused.</summary>
    public bool LabelsAreClasses { get; set; }

    public string Optimizer { get; set; } = "lorenza";
    public OptimizerOptions OptimizerOptions { get; set; } = new() { LearningRate = 1e-3 };
    public string LearningRateSchedule { get; set; } = "linear";
    public double WarmupFraction { get; set; } = 0.06;

    public int Epochs { get; set; } = 3;
    public int BatchSize { get; set; } = 32;
    public int MaxSequenceLength { get; set; } = 128;
    /// <summary>Fraction of the training data held out for validation when no validation set is given.</summary>
    public double ValidationFraction { get; set; } = 0.1;
    /// <summary>Stop training after this many optimizer steps (null: all epochs).</summary>
    public int? MaxSteps { get; set; }
    public ulong Seed { get; set; }
    /// <summary>Overrides the model's hidden, attention and classifier dropout (null: the config's, 0.1 for presets).</summary>
    public double? Dropout { get; set; }
    /// <summary>Micro-batches per optimizer step (each batch is split; gradients accumulate). 1: none.</summary>
    public int GradientAccumulation { get; set; } = 1;
    /// <summary>Stop when this validation metric has not improved for <see cref="Patience"/> epochs: accuracy, macro_f1 or log_loss (null: off).</summary>
    public string? EarlyStoppingMetric { get; set; }
    public int Patience { get; set; } = 2;
    public string Device { get; set; } = "auto";
    /// <summary>Write a checkpoint every this many optimizer steps (null: never).</summary>
    public int? CheckpointEvery { get; set; }
    /// <summary>Folder of the checkpoint file (the CLI uses the output folder).</summary>
    public string? CheckpointDirectory { get; set; }
    /// <summary>Continue from the checkpoint in <see cref="CheckpointDirectory"/>.</summary>
    public bool Resume { get; set; }
    /// <summary>
    /// Mixed precision: "bf16" (or "fp16") computes linear layers and attention products in that type on casts of
    /// the float32 master weights, with softmax, LayerNorm, residuals, logits, loss, gradients, optimizer state and
    /// zeroth-order probe losses in float32 (CUDA autocast's split; TorchSharp 0.107 has no autocast). "none":
    /// float32 everywhere. Any device; fast where the hardware has bfloat16 units (CUDA, recent CPUs).
    /// </summary>
    public string Precision { get; set; } = "none";

    public void Validate()
    {
        static void Check(bool ok, string name, object value, string range)
        {
            if (!ok) throw new ArgumentOutOfRangeException(name, value, $"{name} = {value} is invalid: it must be {range}.");
        }
        Check(Epochs >= 1, nameof(Epochs), Epochs, ">= 1");
        Check(BatchSize >= 1, nameof(BatchSize), BatchSize, ">= 1");
        Check(MaxSequenceLength >= 8, nameof(MaxSequenceLength), MaxSequenceLength, ">= 8");
        if (PretrainedModelPath is { } folder && !Pretrained.PretrainedModels.IsName(folder) && !Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Pretrained model folder not found: {folder}; pass a pretrained model's name ({string.Join(", ", Pretrained.PretrainedModels.Catalog.Select(m => m.Name))}) or a Hugging Face folder (config.json, weights, tokenizer files), or no --model to train from scratch.");
        if (PretrainedModelPath is null) DataChecks.MaxSequenceLength(MaxSequenceLength, DataChecks.PresetMaxSequenceLength, $"the '{Preset}' preset");
        Check(ValidationFraction is >= 0 and < 1, nameof(ValidationFraction), ValidationFraction, "in [0, 1)");
        Check(CheckpointEvery is null or >= 1, nameof(CheckpointEvery), CheckpointEvery ?? 0, ">= 1 or null");
        if ((CheckpointEvery is not null || Resume) && string.IsNullOrEmpty(CheckpointDirectory))
            throw new ArgumentException("Checkpoints need a CheckpointDirectory (the CLI uses --output).");
        Check(MaxSteps is null or >= 1, nameof(MaxSteps), MaxSteps ?? 0, ">= 1 or null");
        Check(Precision is "none" or "bf16" or "fp16", nameof(Precision), Precision, "none, bf16 or fp16");
        Check(GradientAccumulation >= 1 && GradientAccumulation <= BatchSize, nameof(GradientAccumulation), GradientAccumulation, $"in [1, BatchSize = {BatchSize}]");
        Check(EarlyStoppingMetric is null or "accuracy" or "macro_f1" or "log_loss", nameof(EarlyStoppingMetric), EarlyStoppingMetric ?? "", "accuracy, macro_f1, log_loss or null");
        Check(Dropout is null or (>= 0 and < 1), nameof(Dropout), Dropout ?? 0, "in [0, 1)");
        Check(Patience >= 1, nameof(Patience), Patience, ">= 1");
        Check(TokenizerMerges >= 0, nameof(TokenizerMerges), TokenizerMerges, ">= 0");
        if (!OptimizerFactory.Names.Contains(Optimizer.ToLowerInvariant()))
            throw new ArgumentException($"Optimizer = '{Optimizer}' is unknown: use one of {string.Join(", ", OptimizerFactory.Names)}.");
        OptimizerOptions.Validate();
        OptimizerOptions.WordEmbeddingsFor(Optimizer); // before any data is read
    }
}
