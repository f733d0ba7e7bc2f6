namespace Microsoft.ML.Lorenza.Modeling;

/// <summary>
/// A BERT configuration with Hugging Face's config.json keys (model_type "bert"; defaults are
/// bert-base-uncased's), so folders written here load in transformers and folders from the Hub load here.
/// Unknown keys are kept and written back.
/// </summary>
public sealed class BertConfig : TransformerConfig
{
    public BertConfig()
    {
        VocabSize = 30522;
        MaxPositionEmbeddings = 512;
        TypeVocabSize = 2;
        LayerNormEps = 1e-12;
        PadTokenId = 0;
    }

    /// <summary>Hugging Face's model_type of BERT.</summary>
    public const string Type = "bert";

    public override string ModelType => Type;
    protected override string Architecture => "BertForSequenceClassification";

    /// <summary>BERT positions are absolute (0..T−1), so the whole position table is usable.</summary>
    public override int MaxSequenceLength => MaxPositionEmbeddings;

    /// <summary>A small BERT for tests and from-scratch experiments (FFN 4 × hidden, two token types).</summary>
    public static BertConfig Tiny(int vocabSize, int numLabels = 2, int hidden = 64, int layers = 2, int heads = 4, int maxLength = 128) => new()
    {
        VocabSize = vocabSize,
        HiddenSize = hidden,
        NumHiddenLayers = layers,
        NumAttentionHeads = heads,
        IntermediateSize = 4 * hidden,
        MaxPositionEmbeddings = maxLength,
        Labels = DefaultLabels(numLabels),
    };

    /// <summary>Reads a BERT config.json (model_type "bert").</summary>
    public static new BertConfig Load(string path)
    {
        var json = ReadJson(path);
        var modelType = ModelTypeOf(json, path);
        if (modelType != "bert")
            throw new InvalidDataException($"{path} describes a '{modelType ?? "roberta"}' model, not 'bert'; load it with TransformerConfig.Load.");
        var config = new BertConfig();
        config.Read(json, path);
        return config;
    }

    public BertConfig Clone() => CopyTo(new BertConfig());
}
