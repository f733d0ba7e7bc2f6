using System.Text.Json.Nodes;

namespace Microsoft.ML.Lorenza.Modeling;

/// <summary>
/// A DistilBERT configuration (model_type "distilbert") with Hugging Face's own keys — dim, n_layers, n_heads, hidden_dim,
/// activation, dropout, attention_dropout, seq_classif_dropout, sinusoidal_pos_embds — so folders load here and in
/// transformers alike. No token types; LayerNorm eps is DistilBERT's fixed 1e-12. Defaults are distilbert-base-uncased's.
/// </summary>
public sealed class DistilBertConfig : TransformerConfig
{
    public DistilBertConfig()
    {
        VocabSize = 30522;
        HiddenSize = 768;
        NumHiddenLayers = 6;
        NumAttentionHeads = 12;
        IntermediateSize = 3072;
        MaxPositionEmbeddings = 512;
        TypeVocabSize = 0;
        LayerNormEps = 1e-12;
        PadTokenId = 0;
        ClassifierDropout = 0.2;
    }

    /// <summary>Hugging Face's model_type of DistilBERT.</summary>
    public const string Type = "distilbert";

    public override string ModelType => Type;
    protected override string Architecture => "DistilBertForSequenceClassification";
    public override bool HasTokenTypes => false;

    /// <summary>Positions as fixed sines and cosines (sinusoidal_pos_embds): the table is filled so at initialization and not trained.</summary>
    public bool SinusoidalPositions { get; set; }

    /// <summary>DistilBERT positions are absolute (0..T−1).</summary>
    public override int MaxSequenceLength => MaxPositionEmbeddings;

    /// <summary>A small DistilBERT for tests and from-scratch runs (FFN 4 × dim).</summary>
    public static DistilBertConfig Tiny(int vocabSize, int numLabels = 2, int hidden = 64, int layers = 2, int heads = 4, int maxLength = 128) => new()
    {
        VocabSize = vocabSize,
        HiddenSize = hidden,
        NumHiddenLayers = layers,
        NumAttentionHeads = heads,
        IntermediateSize = 4 * hidden,
        MaxPositionEmbeddings = maxLength,
        Labels = DefaultLabels(numLabels),
    };

    private protected override string? JsonKey(string bertName) => bertName switch
    {
        "hidden_size" => "dim",
        "num_hidden_layers" => "n_layers",
        "num_attention_heads" => "n_heads",
        "intermediate_size" => "hidden_dim",
        "hidden_act" => "activation",
        "hidden_dropout_prob" => "dropout",
        "attention_probs_dropout_prob" => "attention_dropout",
        "classifier_dropout" => "seq_classif_dropout",
        "type_vocab_size" or "layer_norm_eps" => null,
        _ => bertName,
    };

    private protected override void ReadSpecific(JsonObject json) =>
        SinusoidalPositions = JsonFile.Bool(json, "sinusoidal_pos_embds", Source) ?? false;

    private protected override IEnumerable<string> SpecificKeys => ["sinusoidal_pos_embds"];

    private protected override void WriteSpecific(JsonObject json) => json["sinusoidal_pos_embds"] = SinusoidalPositions;

    public DistilBertConfig Clone()
    {
        var clone = CopyTo(new DistilBertConfig());
        clone.SinusoidalPositions = SinusoidalPositions;
        return clone;
    }
}
