using System.Globalization;
using System.Text.Json.Nodes;

namespace Microsoft.ML.Lorenza.Modeling;

/// <summary>
/// An ELECTRA discriminator configuration (model_type "electra"): BERT's keys plus embedding_size — the embeddings are
/// that wide and <c>electra.embeddings_project</c> maps them to the hidden size when the two differ. Defaults are
/// google/electra-small-discriminator's.
/// </summary>
public sealed class ElectraConfig : TransformerConfig
{
    public ElectraConfig()
    {
        VocabSize = 30522;
        HiddenSize = 256;
        NumHiddenLayers = 12;
        NumAttentionHeads = 4;
        IntermediateSize = 1024;
        MaxPositionEmbeddings = 512;
        TypeVocabSize = 2;
        LayerNormEps = 1e-12;
        PadTokenId = 0;
        EmbeddingSize = 128;
    }

    /// <summary>Hugging Face's model_type of ELECTRA.</summary>
    public const string Type = "electra";

    public override string ModelType => Type;
    protected override string Architecture => "ElectraForSequenceClassification";

    /// <summary>embedding_size: the width of the word, position and token-type embeddings.</summary>
    public int EmbeddingSize { get; set; }

    public override int EmbeddingWidth => EmbeddingSize;

    /// <summary>ELECTRA positions are absolute (0..T−1).</summary>
    public override int MaxSequenceLength => MaxPositionEmbeddings;

    /// <summary>A small ELECTRA for tests (embeddings half the hidden size, so the projection is there).</summary>
    public static ElectraConfig Tiny(int vocabSize, int numLabels = 2, int hidden = 64, int layers = 2, int heads = 4, int maxLength = 128, int? embeddingSize = null) => new()
    {
        VocabSize = vocabSize,
        HiddenSize = hidden,
        EmbeddingSize = embeddingSize ?? hidden / 2,
        NumHiddenLayers = layers,
        NumAttentionHeads = heads,
        IntermediateSize = 4 * hidden,
        MaxPositionEmbeddings = maxLength,
        Labels = DefaultLabels(numLabels),
    };

    public override void Validate()
    {
        base.Validate();
        if (EmbeddingSize <= 0) throw new ArgumentException($"config embedding_size = {EmbeddingSize.ToString(CultureInfo.InvariantCulture)} must be positive.");
    }

    private protected override void ReadSpecific(JsonObject json) => EmbeddingSize = Int(json, "embedding_size", EmbeddingSize);

    private protected override IEnumerable<string> SpecificKeys => ["embedding_size"];

    private protected override void WriteSpecific(JsonObject json) => json["embedding_size"] = EmbeddingSize;

    public ElectraConfig Clone()
    {
        var clone = CopyTo(new ElectraConfig());
        clone.EmbeddingSize = EmbeddingSize;
        return clone;
    }
}
