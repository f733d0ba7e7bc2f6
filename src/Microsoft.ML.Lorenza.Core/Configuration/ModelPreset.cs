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
