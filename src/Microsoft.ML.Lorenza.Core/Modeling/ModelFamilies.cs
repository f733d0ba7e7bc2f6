namespace Microsoft.ML.Lorenza.Modeling;

/// <summary>
/// One supported architecture, as config.json's model_type names it: its classifier, and the tokenizer files a folder
/// of it holds — the slow tokenizer's (any one of <see cref="SlowTokenizerFiles"/>'s sets) or, failing those,
/// <see cref="ModelFamilies.TokenizerJsonFile"/>.
/// </summary>
public sealed record ModelFamily(string ModelType, string Name, string Classifier, IReadOnlyList<IReadOnlyList<string>> SlowTokenizerFiles)
{
    internal Func<TransformerConfig> NewConfig { get; init; } = () => throw new InvalidOperationException();

    /// <summary>The files to fetch for this family's tokenizer: the first slow set, and tokenizer.json as the alternative.</summary>
    public IReadOnlyList<string> TokenizerFiles => [.. SlowTokenizerFiles[0], ModelFamilies.TokenizerJsonFile];
}

/// <summary>
/// The model families the engine loads, trains and exports, keyed by Hugging Face's model_type — the one list that config
/// loading, tokenizer loading and the hub (refusing a repository of another type before downloading it) consult.
/// </summary>
public static class ModelFamilies
{
    /// <summary>The fast tokenizer's single file (read when a folder lacks the slow tokenizer's files).</summary>
    public const string TokenizerJsonFile = "tokenizer.json";

    private static readonly IReadOnlyList<string> WordPiece = ["vocab.txt", "tokenizer_config.json"];

    public static IReadOnlyList<ModelFamily> All { get; } =
    [
        new(RobertaConfig.Type, "RoBERTa", "RobertaForSequenceClassification", [["vocab.json", "merges.txt"]]) { NewConfig = () => new RobertaConfig() },
        new(XlmRobertaConfig.Type, "XLM-RoBERTa", "XLMRobertaForSequenceClassification", [["sentencepiece.bpe.model"]]) { NewConfig = () => new XlmRobertaConfig() },
        new(BertConfig.Type, "BERT", "BertForSequenceClassification", [WordPiece]) { NewConfig = () => new BertConfig() },
        new(DistilBertConfig.Type, "DistilBERT", "DistilBertForSequenceClassification", [WordPiece]) { NewConfig = () => new DistilBertConfig() },
        new(ElectraConfig.Type, "ELECTRA", "ElectraForSequenceClassification", [WordPiece]) { NewConfig = () => new ElectraConfig() },
    ];

    /// <summary>The model_type values supported: roberta, xlm-roberta, bert, distilbert, electra.</summary>
    public static IReadOnlyList<string> SupportedModelTypes { get; } = All.Select(f => f.ModelType).ToArray();

    /// <summary>Whether config.json's model_type is supported (null — no model_type — means roberta).</summary>
    public static bool IsSupported(string? modelType) => Find(modelType) is not null;

    /// <summary>The family of a model_type (null means roberta), or null when unsupported.</summary>
    public static ModelFamily? Find(string? modelType) => All.FirstOrDefault(f => f.ModelType == (modelType ?? RobertaConfig.Type));

    /// <summary>The family of a model_type, or an <see cref="InvalidDataException"/> naming it and the supported ones.</summary>
    public static ModelFamily Require(string? modelType, string source) =>
        Find(modelType) ?? throw new InvalidDataException(UnsupportedMessage(modelType!, source));

    /// <summary>"{source} describes a '{modelType}' model; supported model types: roberta, xlm-roberta, …".</summary>
    public static string UnsupportedMessage(string modelType, string source) =>
        $"{source} describes a '{modelType}' model; supported model types: {string.Join(", ", SupportedModelTypes)}.";
}
