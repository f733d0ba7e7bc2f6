namespace Microsoft.ML.Lorenza.Configuration;

/// <summary>The RoBERTa sizes trained from scratch (random init, BPE learned from the data) when no pretrained model is given.</summary>
public enum ModelPreset
{
    /// <summary>2 layers, hidden 64: trains in seconds to minutes on a CPU.</summary>
    Tiny,
    /// <summary>4 layers, hidden 256.</summary>
    Small,
    /// <summary>roberta-base shape (12 layers, hidden 768); use a pretrained model for real accuracy.</summary>
    Base,
}

/// <summary>Names of the presets.</summary>
public static class ModelPresetNames
{
    extension(ModelPreset preset)
    {
        /// <summary>The preset's name on the command line, in lorenza.json and in checkpoints: the value in lowercase ("tiny").</summary>
        public string Name => preset.ToString().ToLowerInvariant();
    }
}
