using System.Text.Json;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Text;

namespace Microsoft.ML.Lorenza.Pretrained.Hub;

/// <summary>The files of one repository at one commit, as the hub (online) or the cache alone (offline) can tell them.</summary>
internal interface IRepoFiles
{
    HubModelId Id { get; }

    /// <summary>The commit being read; known once config.json has been asked for.</summary>
    string Commit { get; }

    /// <summary>Whether the file is there.</summary>
    bool Exists(string file);

    /// <summary>The file's local path now (downloaded first when needed); null when it is not there.</summary>
    string? Fetch(string file);

    /// <summary>The error for a file the model needs but does not have (absent from the repository, or from the cache offline).</summary>
    Exception Lacks(string file, string why);

    /// <summary>The error for a repository with none of the weight files.</summary>
    Exception LacksWeights();
}

/// <summary>
/// Which files a model is made of, as transformers' from_pretrained reads them for the families the engine supports:
/// config.json first (a model_type the engine does not support is refused there, before any weight is fetched); then
/// model.safetensors, else model.safetensors.index.json and its shards, else pytorch_model.bin, else
/// pytorch_model.bin.index.json and its shards; then the family's tokenizer as <see cref="ModelFamilies"/> names it — the
/// slow tokenizer's files (RoBERTa: vocab.json + merges.txt; XLM-RoBERTa: sentencepiece.bpe.model; BERT, DistilBERT,
/// ELECTRA: vocab.txt), else tokenizer.json, as the engine reads a folder — with tokenizer_config.json and
/// special_tokens_map.json where the repository has them.
/// </summary>
internal static class HubModelFiles
{
    public const string Config = ModelFolder.ConfigFile;

    /// <summary>The model_type values the engine fine-tunes (config.json's; a config without one is a RoBERTa, as the engine reads it).</summary>
    public static IReadOnlyList<string> SupportedTypes => ModelFamilies.SupportedModelTypes;

    /// <summary>The weight files in the order they are looked for.</summary>
    public static IReadOnlyList<string> WeightCandidates { get; } =
        [ModelFolder.SafeTensorsFile, ModelFolder.SafeTensorsIndexFile, ModelFolder.PyTorchFile, ModelFolder.PyTorchIndexFile];

    /// <summary>The files read beside the tokenizer's own when the repository has them.</summary>
    public static IReadOnlyList<string> TokenizerExtras { get; } = [BertWordPieceTokenizer.ConfigFile, "special_tokens_map.json"];

    /// <summary>
    /// The tokenizer files to fetch for <paramref name="family"/>: the first of its slow sets the repository has whole,
    /// else tokenizer.json; null when it has neither. tokenizer_config.json is one of <see cref="TokenizerExtras"/>, never required.
    /// </summary>
    public static IReadOnlyList<string>? TokenizerFiles(ModelFamily family, Func<string, bool> exists)
    {
        foreach (var set in family.SlowTokenizerFiles)
        {
            var needed = set.Where(f => !TokenizerExtras.Contains(f)).ToArray();
            if (needed.All(exists)) return needed;
        }
        return exists(ModelFamilies.TokenizerJsonFile) ? [ModelFamilies.TokenizerJsonFile] : null;
    }

    /// <summary>
    /// The files of the model in <paramref name="repo"/>, config.json first. Throws (one line) for an unsupported
    /// model_type, missing weights, a missing tokenizer file, or a shard name that would leave the snapshot folder.
    /// </summary>
    public static IReadOnlyList<string> Plan(IRepoFiles repo)
    {
        var configPath = repo.Fetch(Config) ?? throw repo.Lacks(Config, "every model has");
        var modelType = ModelTypeIn(configPath, repo.Id);
        var family = ModelFamilies.Find(modelType) ?? throw HubErrors.UnsupportedType(repo.Id, modelType, repo.Commit);

        var files = new List<string> { Config };
        var weights = WeightCandidates.FirstOrDefault(repo.Exists) ?? throw repo.LacksWeights();
        files.Add(weights);
        if (weights.EndsWith(".index.json", StringComparison.Ordinal))
        {
            var index = repo.Fetch(weights) ?? throw repo.Lacks(weights, "holds the shards' names");
            IReadOnlyList<string> shards;
            try { shards = ModelFolder.ShardsOf(index, $"{repo.Id.RepoId}'s {weights}", checkFiles: false); }
            catch (InvalidDataException e) { throw new PretrainedModelException(e.Message, e); }
            foreach (var shard in shards)
            {
                HubCache.CheckFileName(shard, $"{repo.Id.RepoId}'s {weights}");
                if (!repo.Exists(shard)) throw repo.Lacks(shard, $"its {weights} names as a shard");
                files.Add(shard);
            }
        }
        var tokenizer = TokenizerFiles(family, repo.Exists);
        if (tokenizer is null)
        {
            var slow = family.SlowTokenizerFiles[0].Where(f => !TokenizerExtras.Contains(f));
            throw repo.Lacks(slow.First(f => !repo.Exists(f)), $"a {family.ModelType} model's tokenizer needs ({string.Join(" + ", slow)}), and no {ModelFamilies.TokenizerJsonFile} stands in for it");
        }
        files.AddRange(tokenizer);
        files.AddRange(TokenizerExtras.Where(repo.Exists));
        return files;
    }

    private static string ModelTypeIn(string configPath, HubModelId id)
    {
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(configPath));
            if (json.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException("not a JSON object");
            return json.RootElement.TryGetProperty("model_type", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString()! : RobertaConfig.Type;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException) // InvalidOperationException: a lone surrogate escape
        {
            throw new PretrainedModelException($"{id}'s config.json is not valid JSON ({JsonFile.Reason(e)}); the repository is not a transformers model.");
        }
    }
}
