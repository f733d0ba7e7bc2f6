using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Microsoft.ML.Lorenza.Modeling;

/// <summary>
/// A RoBERTa configuration with Hugging Face's config.json keys, so folders written here load in
/// transformers and folders from the Hub load here. Unknown keys are kept and written back.
/// </summary>
public sealed class RobertaConfig
{
    public int VocabSize { get; set; } = 50265;
    public int HiddenSize { get; set; } = 768;
    public int NumHiddenLayers { get; set; } = 12;
    public int NumAttentionHeads { get; set; } = 12;
    public int IntermediateSize { get; set; } = 3072;
    public string HiddenAct { get; set; } = "gelu";
    public double HiddenDropoutProb { get; set; } = 0.1;
    public double AttentionProbsDropoutProb { get; set; } = 0.1;
    public double? ClassifierDropout { get; set; }
    public int MaxPositionEmbeddings { get; set; } = 514;
    public int TypeVocabSize { get; set; } = 1;
    public double InitializerRange { get; set; } = 0.02;
    public double LayerNormEps { get; set; } = 1e-5;
    public int PadTokenId { get; set; } = 1;
    public int BosTokenId { get; set; } = 0;
    public int EosTokenId { get; set; } = 2;
    /// <summary>Class names in id order (id2label). Its length is num_labels.</summary>
    public List<string> Labels { get; set; } = ["LABEL_0", "LABEL_1"];

    public int NumLabels => Labels.Count;
    public int HeadDim => HiddenSize / NumAttentionHeads;

    private JsonObject extra = new();

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

    /// <summary>Presets by name: "tiny", "small", "base".</summary>
    public static RobertaConfig Preset(string name, int vocabSize, int numLabels, int maxLength = 128) => name.ToLowerInvariant() switch
    {
        "tiny" => Tiny(vocabSize, numLabels, 64, 2, 4, maxLength),
        "small" => Tiny(vocabSize, numLabels, 256, 4, 4, maxLength),
        "base" => new RobertaConfig { VocabSize = vocabSize, Labels = DefaultLabels(numLabels) },
        _ => throw new ArgumentException($"Unknown model preset '{name}'. Use tiny, small or base, or a pretrained folder.", nameof(name)),
    };

    public static List<string> DefaultLabels(int count) => Enumerable.Range(0, count).Select(i => $"LABEL_{i}").ToList();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent value and the fix.</summary>
    public void Validate()
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
            throw new ArgumentException($"config hidden_act = '{HiddenAct}' is not supported; RoBERTa uses 'gelu' (the exact erf form).");
        if (NumLabels < 2) throw new ArgumentException($"config num_labels = {NumLabels}: a classifier needs at least 2 classes.");
        if (PadTokenId < 0 || PadTokenId >= VocabSize) throw new ArgumentException($"config pad_token_id = {PadTokenId} is outside the vocabulary [0, {VocabSize}).");
        if (MaxPositionEmbeddings <= PadTokenId + 1)
            throw new ArgumentException($"config max_position_embeddings = {MaxPositionEmbeddings} leaves no positions after the padding offset {PadTokenId + 1}.");
        foreach (var (name, p) in new[] { ("hidden_dropout_prob", HiddenDropoutProb), ("attention_probs_dropout_prob", AttentionProbsDropoutProb), ("classifier_dropout", ClassifierDropout ?? 0) })
            if (p is < 0 or >= 1) throw new ArgumentException($"config {name} = {p} must be in [0, 1).");
    }

    private static int Divisor(int n)
    {
        for (var d = Math.Min(16, n); d > 1; d--) if (n % d == 0) return d;
        return 1;
    }

    /// <summary>The longest token sequence the position table allows (RoBERTa offsets positions by pad + 1).</summary>
    public int MaxSequenceLength => MaxPositionEmbeddings - PadTokenId - 1;

    // ---- config.json ----

    public static RobertaConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No config.json at {path}.", path);
        JsonObject json;
        try { json = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new InvalidDataException("empty"); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or InvalidDataException)
        {
            throw new InvalidDataException($"{path} is not a valid JSON object: {e.Message}", e);
        }
        var modelType = json["model_type"]?.GetValue<string>();
        if (modelType is not null && modelType != "roberta")
            throw new InvalidDataException($"{path} describes a '{modelType}' model; only 'roberta' is supported.");
        var c = new RobertaConfig();
        int I(string key, int fallback) => json[key] is { } n ? n.GetValue<int>() : fallback;
        double D(string key, double fallback) => json[key] is { } n ? n.GetValue<double>() : fallback;
        c.VocabSize = I("vocab_size", c.VocabSize);
        c.HiddenSize = I("hidden_size", c.HiddenSize);
        c.NumHiddenLayers = I("num_hidden_layers", c.NumHiddenLayers);
        c.NumAttentionHeads = I("num_attention_heads", c.NumAttentionHeads);
        c.IntermediateSize = I("intermediate_size", c.IntermediateSize);
        c.HiddenAct = json["hidden_act"]?.GetValue<string>() ?? c.HiddenAct;
        c.HiddenDropoutProb = D("hidden_dropout_prob", c.HiddenDropoutProb);
        c.AttentionProbsDropoutProb = D("attention_probs_dropout_prob", c.AttentionProbsDropoutProb);
        c.ClassifierDropout = json["classifier_dropout"] is { } cd ? cd.GetValue<double>() : null;
        c.MaxPositionEmbeddings = I("max_position_embeddings", c.MaxPositionEmbeddings);
        c.TypeVocabSize = I("type_vocab_size", c.TypeVocabSize);
        c.InitializerRange = D("initializer_range", c.InitializerRange);
        c.LayerNormEps = D("layer_norm_eps", c.LayerNormEps);
        c.PadTokenId = I("pad_token_id", c.PadTokenId);
        c.BosTokenId = I("bos_token_id", c.BosTokenId);
        c.EosTokenId = I("eos_token_id", c.EosTokenId);
        if (json["id2label"] is JsonObject id2label)
        {
            var labels = id2label.Select(kv => (id: int.Parse(kv.Key, CultureInfo.InvariantCulture), name: kv.Value!.GetValue<string>())).OrderBy(p => p.id).ToList();
            if (labels.Select(p => p.id).SequenceEqual(Enumerable.Range(0, labels.Count))) c.Labels = labels.Select(p => p.name).ToList();
            else throw new InvalidDataException($"{path}: id2label ids must be 0..{labels.Count - 1}.");
        }
        else if (json["num_labels"] is { } n)
        {
            c.Labels = DefaultLabels(n.GetValue<int>());
        }
        foreach (var key in KnownKeys) json.Remove(key);
        c.extra = json;
        c.Validate();
        return c;
    }

    private static readonly string[] KnownKeys =
    [
        "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "hidden_act",
        "hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout", "max_position_embeddings",
        "type_vocab_size", "initializer_range", "layer_norm_eps", "pad_token_id", "bos_token_id", "eos_token_id",
        "id2label", "label2id", "num_labels", "model_type", "architectures",
    ];

    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray("RobertaForSequenceClassification"),
            ["model_type"] = "roberta",
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
            ["bos_token_id"] = BosTokenId,
            ["eos_token_id"] = EosTokenId,
            ["id2label"] = new JsonObject(Labels.Select((l, i) => KeyValuePair.Create(i.ToString(CultureInfo.InvariantCulture), (JsonNode?)l))),
            ["label2id"] = new JsonObject(Labels.Select((l, i) => KeyValuePair.Create(l, (JsonNode?)i))),
        };
        foreach (var (key, value) in extra) json[key] = value?.DeepClone();
        return json;
    }

    public void Save(string path) =>
        AtomicFile.WriteAllText(path, ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

    public RobertaConfig Clone() => new()
    {
        VocabSize = VocabSize, HiddenSize = HiddenSize, NumHiddenLayers = NumHiddenLayers, NumAttentionHeads = NumAttentionHeads,
        IntermediateSize = IntermediateSize, HiddenAct = HiddenAct, HiddenDropoutProb = HiddenDropoutProb,
        AttentionProbsDropoutProb = AttentionProbsDropoutProb, ClassifierDropout = ClassifierDropout,
        MaxPositionEmbeddings = MaxPositionEmbeddings, TypeVocabSize = TypeVocabSize, InitializerRange = InitializerRange,
        LayerNormEps = LayerNormEps, PadTokenId = PadTokenId, BosTokenId = BosTokenId, EosTokenId = EosTokenId,
        Labels = [.. Labels], extra = (JsonObject)extra.DeepClone(),
    };
}
