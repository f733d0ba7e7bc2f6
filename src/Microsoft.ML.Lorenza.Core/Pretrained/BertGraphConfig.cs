using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Microsoft.ML.Lorenza.Pretrained;

/// <summary>The architecture of a BERT encoder as read from an ONNX graph (Hugging Face BertConfig fields).</summary>
internal sealed record BertGraphConfig(
    int VocabSize, int HiddenSize, int NumHiddenLayers, int NumAttentionHeads, int IntermediateSize,
    int MaxPositionEmbeddings, int TypeVocabSize, double LayerNormEps, string HiddenAct)
{
    /// <summary>The epsilon as Python writes it (1e-12).</summary>
    public string FormattedEps => LayerNormEps.ToString("R", CultureInfo.InvariantCulture).ToLowerInvariant();

    /// <summary>config.json for Hugging Face's BertModel (keys sorted as transformers writes them).</summary>
    public string ToJson()
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartArray("architectures"); w.WriteStringValue("BertModel"); w.WriteEndArray();
            w.WriteNumber("attention_probs_dropout_prob", 0.1);
            w.WriteString("hidden_act", HiddenAct);
            w.WriteNumber("hidden_dropout_prob", 0.1);
            w.WriteNumber("hidden_size", HiddenSize);
            w.WriteNumber("initializer_range", 0.02);
            w.WriteNumber("intermediate_size", IntermediateSize);
            w.WritePropertyName("layer_norm_eps");
            w.WriteRawValue(FormattedEps, skipInputValidation: false);
            w.WriteNumber("max_position_embeddings", MaxPositionEmbeddings);
            w.WriteString("model_type", "bert");
            w.WriteNumber("num_attention_heads", NumAttentionHeads);
            w.WriteNumber("num_hidden_layers", NumHiddenLayers);
            w.WriteNumber("pad_token_id", 0);
            w.WriteString("position_embedding_type", "absolute");
            w.WriteNumber("type_vocab_size", TypeVocabSize);
            w.WriteBoolean("use_cache", true);
            w.WriteNumber("vocab_size", VocabSize);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}
