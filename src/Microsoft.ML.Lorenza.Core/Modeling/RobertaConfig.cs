using System.Text.Json.Nodes;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Modeling;

/// <summary>
/// A RoBERTa configuration with Hugging Face's config.json keys, so folders written here load in
/// transformers and folders from the Hub load here. Unknown keys are kept and written back.
/// </summary>
public class RobertaConfig : TransformerConfig
{
    public RobertaConfig()
    {
        VocabSize = 50265;
        MaxPositionEmbeddings = 514;
        TypeVocabSize = 1;
        LayerNormEps = 1e-5;
        PadTokenId = 1;
    }

    public int BosTokenId { get; set; }
    public int EosTokenId { get; set; } = 2;

    /// <summary>Hugging Face's model_type of RoBERTa.</summary>
    public const string Type = "roberta";

    public override string ModelType => Type;
    protected override string Architecture => "RobertaForSequenceClassification";

    /// <summary>roberta-base's shapes (125M parameters), random initialization.</summary>
    public static RobertaConfig Base(int numLabels = 2) => new() { Labels = DefaultLabels(numLabels) };

    /// <summary>A small model that trains from scratch in minutes on a CPU (for the demo and tests).</summary>
    public static RobertaConfig Tiny(int vocabSize, int numLabels = 2, int hidden = 64, int layers = 2, int heads = 4, int maxLength = 128) => new()
    {
        VocabSize = vocabSize,
        HiddenSize = hidden,
        NumHiddenLayers = layers,
        NumAttentionHeads = heads,
        IntermediateSize = 4 * hidden,
        MaxPositionEmbeddings = maxLength + 2,
        Labels = DefaultLabels(numLabels),
    };

    /// <summary>The config of a preset.</summary>
    public static RobertaConfig Preset(ModelPreset preset, int vocabSize, int numLabels, int maxLength = 128) => preset switch
    {
        ModelPreset.Tiny => Tiny(vocabSize, numLabels, 64, 2, 4, maxLength),
        ModelPreset.Small => Tiny(vocabSize, numLabels, 256, 4, 4, maxLength),
        ModelPreset.Base => new RobertaConfig { VocabSize = vocabSize, Labels = DefaultLabels(numLabels) },
        _ => throw new ArgumentException($"Unknown model preset '{preset}'. Use tiny, small or base, or a pretrained folder.", nameof(preset)),
    };

    public override void Validate()
    {
        base.Validate();
        if (MaxPositionEmbeddings <= PadTokenId + 1)
            throw new ArgumentException($"config max_position_embeddings = {MaxPositionEmbeddings} leaves no positions after the padding offset {PadTokenId + 1}.");
    }

    /// <summary>The longest token sequence the position table allows (RoBERTa offsets positions by pad + 1).</summary>
    public override int MaxSequenceLength => MaxPositionEmbeddings - PadTokenId - 1;

    /// <summary>Reads a RoBERTa config.json (model_type "roberta" or absent; XLM-RoBERTa's through <see cref="TransformerConfig.Load"/>).</summary>
    public static new RobertaConfig Load(string path)
    {
        var json = ReadJson(path);
        var modelType = ModelTypeOf(json, path);
        if (modelType is not null && modelType != "roberta")
            throw new InvalidDataException($"{path} describes a '{modelType}' model, not 'roberta'; load it with TransformerConfig.Load.");
        var config = new RobertaConfig();
        config.Read(json, path);
        return config;
    }

    private protected override void ReadSpecific(JsonObject json)
    {
        BosTokenId = Int(json, "bos_token_id", BosTokenId);
        EosTokenId = Int(json, "eos_token_id", EosTokenId);
    }

    private protected override IEnumerable<string> SpecificKeys => ["bos_token_id", "eos_token_id"];

    private protected override void WriteSpecific(JsonObject json)
    {
        json["bos_token_id"] = BosTokenId;
        json["eos_token_id"] = EosTokenId;
    }

    public RobertaConfig Clone()
    {
        var clone = CopyTo(this is XlmRobertaConfig ? new XlmRobertaConfig() : new RobertaConfig());
        (clone.BosTokenId, clone.EosTokenId) = (BosTokenId, EosTokenId);
        return clone;
    }
}
