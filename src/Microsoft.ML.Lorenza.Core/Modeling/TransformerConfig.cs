using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Microsoft.ML.Lorenza.Modeling;

/// <summary>
/// What RoBERTa and BERT configurations share: Hugging Face's config.json keys for the encoder (sizes,
/// dropouts, LayerNorm eps, padding id) and the labels. <see cref="Load"/> picks the architecture from
/// model_type ("roberta" when absent, as older folders of this project have it; "bert"). Unknown keys
/// are kept and written back.
/// </summary>
public abstract class TransformerConfig
{
    public int VocabSize { get; set; }
    public int HiddenSize { get; set; } = 768;
    public int NumHiddenLayers { get; set; } = 12;
    public int NumAttentionHeads { get; set; } = 12;
    public int IntermediateSize { get; set; } = 3072;
    public string HiddenAct { get; set; } = "gelu";
    public double HiddenDropoutProb { get; set; } = 0.1;
    public double AttentionProbsDropoutProb { get; set; } = 0.1;
    public double? ClassifierDropout { get; set; }
    public int MaxPositionEmbeddings { get; set; }
    public int TypeVocabSize { get; set; }
    public double InitializerRange { get; set; } = 0.02;
    public double LayerNormEps { get; set; }
    public int PadTokenId { get; set; }
    /// <summary>Class names in id order (id2label). Its length is num_labels.</summary>
    public List<string> Labels { get; set; } = ["LABEL_0", "LABEL_1"];

    public int NumLabels => Labels.Count;
    public int HeadDim => HiddenSize / NumAttentionHeads;

    /// <summary>Hugging Face's model_type: "roberta" or "bert".</summary>
    public abstract string ModelType { get; }

    /// <summary>The longest token sequence (special tokens included) the position table allows.</summary>
    public abstract int MaxSequenceLength { get; }

    /// <summary>The classifier class Hugging Face loads a saved folder with (config.json "architectures").</summary>
    protected abstract string Architecture { get; }

    private protected JsonObject Extra { get; set; } = new();

    public static List<string> DefaultLabels(int count) => Enumerable.Range(0, count).Select(i => $"LABEL_{i}").ToList();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent value and the fix.</summary>
    public virtual void Validate()
    {
        void Positive(string key, double value)
        {
            if (!(value > 0)) throw new ArgumentException($"config {key} = {value.ToString(CultureInfo.InvariantCulture)} must be positive.");
        }
        Positive("vocab_size", VocabSize);
        Positive("hidden_size", HiddenSize);
        Positive("num_hidden_layers", NumHiddenLayers);
        Positive("num_attention_heads", NumAttentionHeads);
        Positive("intermediate_size", IntermediateSize);
        Positive("max_position_embeddings", MaxPositionEmbeddings);
        Positive("type_vocab_size", TypeVocabSize);
        Positive("layer_norm_eps", LayerNormEps);
        if (HiddenSize % NumAttentionHeads != 0)
            throw new ArgumentException($"config hidden_size = {HiddenSize} is not divisible by num_attention_heads = {NumAttentionHeads}; choose a head count that divides the hidden size (e.g. {Divisor(HiddenSize)}).");
        if (HiddenAct != "gelu")
            throw new ArgumentException($"config hidden_act = '{HiddenAct}' is not supported; {ModelType} models here use 'gelu' (the exact erf form).");
        if (Extra["position_embedding_type"] is { } positions && positions.GetValueKind() == JsonValueKind.String && positions.GetValue<string>() != "absolute")
            throw new ArgumentException($"config position_embedding_type = '{positions.GetValue<string>()}' is not supported; only 'absolute' position embeddings are.");
        if (NumLabels < 2) throw new ArgumentException($"config num_labels = {NumLabels}: a classifier needs at least 2 classes.");
        if (PadTokenId < 0 || PadTokenId >= VocabSize) throw new ArgumentException($"config pad_token_id = {PadTokenId} is outside the vocabulary [0, {VocabSize}).");
        foreach (var (name, p) in new[] { ("hidden_dropout_prob", HiddenDropoutProb), ("attention_probs_dropout_prob", AttentionProbsDropoutProb), ("classifier_dropout", ClassifierDropout ?? 0) })
            if (p is < 0 or >= 1) throw new ArgumentException($"config {name} = {p} must be in [0, 1).");
    }

    private static int Divisor(int n)
    {
        for (var d = Math.Min(16, n); d > 1; d--) if (n % d == 0) return d;
        return 1;
    }

    // ---- config.json ----

    /// <summary>Reads a config.json of any supported architecture (model_type "roberta", absent, or "bert").</summary>
    public static TransformerConfig Load(string path)
    {
        var json = ReadJson(path);
        var modelType = ModelTypeOf(json, path);
        TransformerConfig config = modelType switch
        {
            null or RobertaConfig.Type => new RobertaConfig(),
            BertConfig.Type => new BertConfig(),
            _ => throw new InvalidDataException($"{path} describes a '{modelType}' model; supported model types: roberta, bert."),
        };
        config.Read(json, path);
        return config;
    }

    /// <summary>config.json's model_type: "roberta" when absent (older folders of this project), else as written.</summary>
    public static string ModelTypeOf(string path) => ModelTypeOf(ReadJson(path), path) ?? RobertaConfig.Type;

    private protected static JsonObject ReadJson(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No config.json at {path}.", path);
        try { return JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new InvalidDataException("empty"); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or InvalidDataException)
        {
            throw new InvalidDataException($"{path} is not a valid JSON object: {e.Message}", e);
        }
    }

    private protected static string? ModelTypeOf(JsonObject json, string path)
    {
        var node = json["model_type"];
        if (node is null) return null;
        return node.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : throw new InvalidDataException($"{path}: model_type must be a string.");
    }

    private protected static int Int(JsonObject json, string key, int fallback) => json[key] is { } n ? n.GetValue<int>() : fallback;
    private protected static double Double(JsonObject json, string key, double fallback) => json[key] is { } n ? n.GetValue<double>() : fallback;

    /// <summary>Fills this configuration from <paramref name="json"/> (which loses the known keys), then validates.</summary>
    private protected void Read(JsonObject json, string path)
    {
        VocabSize = Int(json, "vocab_size", VocabSize);
        HiddenSize = Int(json, "hidden_size", HiddenSize);
        NumHiddenLayers = Int(json, "num_hidden_layers", NumHiddenLayers);
        NumAttentionHeads = Int(json, "num_attention_heads", NumAttentionHeads);
        IntermediateSize = Int(json, "intermediate_size", IntermediateSize);
        HiddenAct = json["hidden_act"]?.GetValue<string>() ?? HiddenAct;
        HiddenDropoutProb = Double(json, "hidden_dropout_prob", HiddenDropoutProb);
        AttentionProbsDropoutProb = Double(json, "attention_probs_dropout_prob", AttentionProbsDropoutProb);
        ClassifierDropout = json["classifier_dropout"] is { } cd ? cd.GetValue<double>() : null;
        MaxPositionEmbeddings = Int(json, "max_position_embeddings", MaxPositionEmbeddings);
        TypeVocabSize = Int(json, "type_vocab_size", TypeVocabSize);
        InitializerRange = Double(json, "initializer_range", InitializerRange);
        LayerNormEps = Double(json, "layer_norm_eps", LayerNormEps);
        PadTokenId = Int(json, "pad_token_id", PadTokenId);
        ReadSpecific(json);
        if (json["id2label"] is JsonObject id2label)
        {
            var labels = id2label.Select(kv => (id: int.Parse(kv.Key, CultureInfo.InvariantCulture), name: kv.Value!.GetValue<string>())).OrderBy(p => p.id).ToList();
            if (labels.Select(p => p.id).SequenceEqual(Enumerable.Range(0, labels.Count))) Labels = labels.Select(p => p.name).ToList();
            else throw new InvalidDataException($"{path}: id2label ids must be 0..{labels.Count - 1}.");
        }
        else if (json["num_labels"] is { } n)
        {
            Labels = DefaultLabels(n.GetValue<int>());
        }
        foreach (var key in CommonKeys.Concat(SpecificKeys)) json.Remove(key);
        Extra = json;
        Validate();
    }

    /// <summary>Reads the architecture's own keys (e.g. RoBERTa's bos/eos ids).</summary>
    private protected virtual void ReadSpecific(JsonObject json) { }

    private protected virtual IEnumerable<string> SpecificKeys => [];

    private static readonly string[] CommonKeys =
    [
        "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "hidden_act",
        "hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout", "max_position_embeddings",
        "type_vocab_size", "initializer_range", "layer_norm_eps", "pad_token_id",
        "id2label", "label2id", "num_labels", "model_type", "architectures",
    ];

    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray(Architecture),
            ["model_type"] = ModelType,
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["intermediate_size"] = IntermediateSize,
            ["hidden_act"] = HiddenAct,
            ["hidden_dropout_prob"] = HiddenDropoutProb,
            ["attention_probs_dropout_prob"] = AttentionProbsDropoutProb,
            ["classifier_dropout"] = ClassifierDropout,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["type_vocab_size"] = TypeVocabSize,
            ["initializer_range"] = InitializerRange,
            ["layer_norm_eps"] = LayerNormEps,
            ["pad_token_id"] = PadTokenId,
        };
        WriteSpecific(json);
        json["id2label"] = new JsonObject(Labels.Select((l, i) => KeyValuePair.Create(i.ToString(CultureInfo.InvariantCulture), (JsonNode?)l)));
        json["label2id"] = new JsonObject(Labels.Select((l, i) => KeyValuePair.Create(l, (JsonNode?)i)));
        foreach (var (key, value) in Extra) json[key] = value?.DeepClone();
        return json;
    }

    /// <summary>Writes the architecture's own keys, after pad_token_id.</summary>
    private protected virtual void WriteSpecific(JsonObject json) { }

    public void Save(string path) =>
        AtomicFile.WriteAllText(path, ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

    /// <summary>Copies the shared values (and unknown keys) into <paramref name="target"/>.</summary>
    private protected T CopyTo<T>(T target) where T : TransformerConfig
    {
        target.VocabSize = VocabSize; target.HiddenSize = HiddenSize; target.NumHiddenLayers = NumHiddenLayers;
        target.NumAttentionHeads = NumAttentionHeads; target.IntermediateSize = IntermediateSize; target.HiddenAct = HiddenAct;
        target.HiddenDropoutProb = HiddenDropoutProb; target.AttentionProbsDropoutProb = AttentionProbsDropoutProb;
        target.ClassifierDropout = ClassifierDropout; target.MaxPositionEmbeddings = MaxPositionEmbeddings;
        target.TypeVocabSize = TypeVocabSize; target.InitializerRange = InitializerRange; target.LayerNormEps = LayerNormEps;
        target.PadTokenId = PadTokenId; target.Labels = [.. Labels]; target.Extra = (JsonObject)Extra.DeepClone();
        return target;
    }
}
