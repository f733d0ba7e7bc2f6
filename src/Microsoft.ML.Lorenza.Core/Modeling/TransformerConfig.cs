using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.ML.Lorenza.Runtime;

namespace Microsoft.ML.Lorenza.Modeling;

/// <summary>
/// What the families' configurations share: Hugging Face's config.json keys for the encoder (sizes,
/// dropouts, LayerNorm eps, padding id) and the labels, under BERT's key names unless a family renames them
/// (DistilBERT's dim, n_layers, …: <see cref="JsonKey"/>). <see cref="Load"/> picks the architecture from
/// model_type (<see cref="ModelFamilies.SupportedModelTypes"/>; "roberta" when absent, as older folders of this
/// project have it). Unknown keys are kept and written back.
/// </summary>
public abstract partial class TransformerConfig
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

    /// <summary>Hugging Face's model_type (one of <see cref="ModelFamilies.SupportedModelTypes"/>).</summary>
    public abstract string ModelType { get; }

    /// <summary>Whether the family embeds token types (segments); DistilBERT has no token-type table.</summary>
    public virtual bool HasTokenTypes => true;

    /// <summary>The width of the embeddings (ELECTRA's embedding_size; the hidden size elsewhere).</summary>
    public virtual int EmbeddingWidth => HiddenSize;

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
        Positive(JsonKey("hidden_size")!, HiddenSize);
        Positive(JsonKey("num_hidden_layers")!, NumHiddenLayers);
        Positive(JsonKey("num_attention_heads")!, NumAttentionHeads);
        Positive(JsonKey("intermediate_size")!, IntermediateSize);
        Positive("max_position_embeddings", MaxPositionEmbeddings);
        if (HasTokenTypes) Positive("type_vocab_size", TypeVocabSize);
        Positive("layer_norm_eps", LayerNormEps);
        if (!(InitializerRange >= 0) || double.IsInfinity(InitializerRange))
            throw new ArgumentException($"config initializer_range = {InitializerRange.ToString(CultureInfo.InvariantCulture)} must be a standard deviation (>= 0).");
        if (HiddenSize % NumAttentionHeads != 0)
            throw new ArgumentException($"config {JsonKey("hidden_size")} = {HiddenSize} is not divisible by {JsonKey("num_attention_heads")} = {NumAttentionHeads}; choose a head count that divides the hidden size (e.g. {Divisor(HiddenSize)}).");
        if (HiddenAct != "gelu")
            throw new ArgumentException($"config {JsonKey("hidden_act")} = '{HiddenAct}' is not supported; {ModelType} models here use 'gelu' (the exact erf form).");
        if (Extra["position_embedding_type"] is { } positions && positions.GetValueKind() == JsonValueKind.String && positions.GetValue<string>() != "absolute")
            throw new ArgumentException($"config position_embedding_type = '{positions.GetValue<string>()}' is not supported; only 'absolute' position embeddings are.");
        if (NumLabels < 2) throw new ArgumentException($"config num_labels = {NumLabels}: a classifier needs at least 2 classes.");
        if (PadTokenId < 0 || PadTokenId >= VocabSize) throw new ArgumentException($"config pad_token_id = {PadTokenId} is outside the vocabulary [0, {VocabSize}).");
        foreach (var (name, p) in new[] { (JsonKey("hidden_dropout_prob"), HiddenDropoutProb), (JsonKey("attention_probs_dropout_prob"), AttentionProbsDropoutProb), (JsonKey("classifier_dropout"), ClassifierDropout ?? 0) })
            if (p is < 0 or >= 1) throw new ArgumentException($"config {name} = {p} must be in [0, 1).");
    }

    private static int Divisor(int n)
    {
        for (var d = Math.Min(16, n); d > 1; d--) if (n % d == 0) return d;
        return 1;
    }

    // ---- config.json ----

    /// <summary>Reads a config.json of any supported architecture (<see cref="ModelFamilies.SupportedModelTypes"/>; "roberta" when absent).</summary>
    public static TransformerConfig Load(string path)
    {
        var json = ReadJson(path);
        var config = ModelFamilies.Require(ModelTypeOf(json, path), path).NewConfig();
        config.Read(json, path);
        return config;
    }

    /// <summary>config.json's model_type: "roberta" when absent (older folders of this project), else as written.</summary>
    public static string ModelTypeOf(string path) => ModelTypeOf(ReadJson(path), path) ?? RobertaConfig.Type;

    private protected static JsonObject ReadJson(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No config.json at {path}.", path);
        return JsonFile.ReadObject(path);
    }

    private protected static string? ModelTypeOf(JsonObject json, string path) => JsonFile.String(json, "model_type", path);

    /// <summary>The file being read (set by <see cref="Read"/>), for the messages of <see cref="Int"/> and <see cref="Double"/>.</summary>
    private protected string Source { get; private set; } = "config";

    private protected int Int(JsonObject json, string key, int fallback) => JsonFile.Int(json, key, Source, fallback);
    private protected double Double(JsonObject json, string key, double fallback) => JsonFile.Double(json, key, Source, fallback);

    /// <summary>More classes than any classifier has: a num_labels or id2label beyond it is a damaged file, not a model.</summary>
    private const int MaxLabels = 100_000;

    /// <summary>
    /// The config.json key of a shared value, by its BERT name ("hidden_size", …); null when the family has no such key
    /// (DistilBERT: type_vocab_size, layer_norm_eps). Families that rename keys override this.
    /// </summary>
    private protected virtual string? JsonKey(string bertName) => bertName;

    /// <summary>Fills this configuration from <paramref name="json"/> (which loses the known keys), then validates.</summary>
    private protected void Read(JsonObject json, string path)
    {
        Source = path;
        int I(string key, int fallback) => JsonKey(key) is { } k ? Int(json, k, fallback) : fallback;
        double D(string key, double fallback) => JsonKey(key) is { } k ? Double(json, k, fallback) : fallback;
        VocabSize = I("vocab_size", VocabSize);
        HiddenSize = I("hidden_size", HiddenSize);
        NumHiddenLayers = I("num_hidden_layers", NumHiddenLayers);
        NumAttentionHeads = I("num_attention_heads", NumAttentionHeads);
        IntermediateSize = I("intermediate_size", IntermediateSize);
        HiddenAct = (JsonKey("hidden_act") is { } act ? JsonFile.String(json, act, path) : null) ?? HiddenAct;
        HiddenDropoutProb = D("hidden_dropout_prob", HiddenDropoutProb);
        AttentionProbsDropoutProb = D("attention_probs_dropout_prob", AttentionProbsDropoutProb);
        ClassifierDropout = JsonKey("classifier_dropout") is { } cdKey && json[cdKey] is { } cd ? JsonFile.Double(cd, cdKey, path) : ClassifierDropout;
        MaxPositionEmbeddings = I("max_position_embeddings", MaxPositionEmbeddings);
        TypeVocabSize = I("type_vocab_size", TypeVocabSize);
        InitializerRange = D("initializer_range", InitializerRange);
        LayerNormEps = D("layer_norm_eps", LayerNormEps);
        PadTokenId = I("pad_token_id", PadTokenId);
        ReadSpecific(json);
        if (json["id2label"] is { } id2labelNode)
        {
            var id2label = id2labelNode as JsonObject ?? throw JsonFile.WrongType(path, "id2label", id2labelNode, "an object of id → label");
            if (id2label.Count > MaxLabels) throw new InvalidDataException($"{path}: id2label has {id2label.Count} labels; more than {MaxLabels} is not a classifier.");
            var labels = id2label.Select(kv => (id: int.TryParse(kv.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : throw new InvalidDataException($"{path}: id2label key \"{kv.Key}\" is not a class id (0, 1, …)."),
                name: JsonFile.String(kv.Value, $"id2label.{kv.Key}", path))).OrderBy(p => p.id).ToList();
            if (labels.Select(p => p.id).SequenceEqual(Enumerable.Range(0, labels.Count))) Labels = labels.Select(p => p.name).ToList();
            else throw new InvalidDataException($"{path}: id2label ids must be 0..{labels.Count - 1}.");
        }
        else if (json["num_labels"] is { } n)
        {
            var count = JsonFile.Int(n, "num_labels", path);
            if (count > MaxLabels) throw new InvalidDataException($"{path}: num_labels = {count}; more than {MaxLabels} is not a classifier.");
            Labels = DefaultLabels(Math.Max(count, 0));
        }
        foreach (var key in CommonKeys.Select(JsonKey).OfType<string>().Concat(LabelKeys).Concat(SpecificKeys)) json.Remove(key);
        Extra = json;
        // A file's inconsistent values are bad data (naming the file), not a caller's bad argument.
        try { Validate(); }
        catch (ArgumentException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
    }

    /// <summary>
    /// Refuses a config.json that does not describe the weights (<paramref name="shapes"/>: names and shapes from the weight
    /// file's header), before a model of its sizes is allocated: the layer count, the word-embedding table, and the least
    /// number of values the encoder's matrices need against what the file holds.
    /// </summary>
    internal void CheckAgainstWeights(IReadOnlyDictionary<string, long[]> shapes, string weightsPath)
    {
        var layers = shapes.Keys.Select(k => LayerIndex().Match(k)).Where(m => m.Success)
            .Select(m => int.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : int.MaxValue - 1)
            .DefaultIfEmpty(-1).Max() + 1;
        if (layers != NumHiddenLayers)
            throw new InvalidDataException($"{Source}: {JsonKey("num_hidden_layers")} = {NumHiddenLayers}, but {weightsPath} holds {layers} layers; config.json does not describe these weights.");
        foreach (var (name, shape) in shapes.Where(kv => kv.Key.EndsWith("word_embeddings.weight", StringComparison.Ordinal)))
            if (!shape.SequenceEqual([VocabSize, EmbeddingWidth]))
                throw new InvalidDataException($"{Source}: vocab_size = {VocabSize} and {(EmbeddingWidth == HiddenSize ? JsonKey("hidden_size") : "embedding_size")} = {EmbeddingWidth} need {name} of shape [{VocabSize}, {EmbeddingWidth}], but {weightsPath} has {Shapes.Format(shape)}; config.json does not describe these weights.");
        // The embedding tables (words, positions, token types), and in every layer four H×H attention matrices and two
        // H×I feed-forward ones (doubles: no overflow). The head is left out: a bare encoder's is initialized afresh.
        double h = HiddenSize, tables = (double)VocabSize + MaxPositionEmbeddings + (HasTokenTypes ? TypeVocabSize : 0);
        var least = tables * EmbeddingWidth + (double)NumHiddenLayers * (4 * h * h + 2 * h * IntermediateSize);
        var held = shapes.Values.Sum(shape => shape.Aggregate(1.0, (n, d) => n * d));
        if (least > held)
            throw new InvalidDataException($"{Source}: its sizes ({JsonKey("hidden_size")} = {HiddenSize}, {JsonKey("intermediate_size")} = {IntermediateSize}, max_position_embeddings = {MaxPositionEmbeddings}{(HasTokenTypes ? $", type_vocab_size = {TypeVocabSize}" : "")}) need at least {least:0} weights, but {weightsPath} holds {held:0}; config.json does not describe these weights.");
    }

    [GeneratedRegex(@"(?:^|\.)layer\.([0-9]+)\.")]
    private static partial Regex LayerIndex();

    /// <summary>Reads the architecture's own keys (e.g. RoBERTa's bos/eos ids).</summary>
    private protected virtual void ReadSpecific(JsonObject json) { }

    private protected virtual IEnumerable<string> SpecificKeys => [];

    // The shared values' keys by their BERT names (JsonKey maps them per family).
    private static readonly string[] CommonKeys =
    [
        "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "hidden_act",
        "hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout", "max_position_embeddings",
        "type_vocab_size", "initializer_range", "layer_norm_eps", "pad_token_id",
    ];

    private static readonly string[] LabelKeys = ["id2label", "label2id", "num_labels", "model_type", "architectures"];

    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray(Architecture),
            ["model_type"] = ModelType,
        };
        foreach (var (key, value) in new (string, JsonNode?)[]
        {
            ("vocab_size", VocabSize), ("hidden_size", HiddenSize), ("num_hidden_layers", NumHiddenLayers),
            ("num_attention_heads", NumAttentionHeads), ("intermediate_size", IntermediateSize), ("hidden_act", HiddenAct),
            ("hidden_dropout_prob", HiddenDropoutProb), ("attention_probs_dropout_prob", AttentionProbsDropoutProb),
            ("classifier_dropout", ClassifierDropout), ("max_position_embeddings", MaxPositionEmbeddings),
            ("type_vocab_size", TypeVocabSize), ("initializer_range", InitializerRange), ("layer_norm_eps", LayerNormEps),
            ("pad_token_id", PadTokenId),
        })
            if (JsonKey(key) is { } name) json[name] = value;
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
