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
/// pytorch_model.bin.index.json and its shards; then the family's tokenizer (RoBERTa: vocab.json + merges.txt; BERT:
/// vocab.txt) with tokenizer_config.json and special_tokens_map.json where the repository has them.
/// </summary>
internal static class HubModelFiles
{
    public const string Config = ModelFolder.ConfigFile;

    /// <summary>The model_type values the engine fine-tunes (config.json's; a config without one is a RoBERTa, as the engine reads it).</summary>
    public static IReadOnlyList<string> SupportedTypes { get; } = [RobertaConfig.Type, BertConfig.Type];

    /// <summary>The weight files in the order they are looked for.</summary>
    public static IReadOnlyList<string> WeightCandidates { get; } =
        [ModelFolder.SafeTensorsFile, ModelFolder.SafeTensorsIndexFile, ModelFolder.PyTorchFile, ModelFolder.PyTorchIndexFile];

    /// <summary>The tokenizer files a family needs, and those it reads when the repository has them.</summary>
    public static (IReadOnlyList<string> Required, IReadOnlyList<string> Optional) TokenizerFiles(string modelType) => modelType switch
    {
        BertConfig.Type => ([BertWordPieceTokenizer.VocabFile], ["tokenizer_config.json", "special_tokens_map.json"]),
        _ => ([RobertaTokenizer.VocabFile, RobertaTokenizer.MergesFile], ["tokenizer_config.json", "special_tokens_map.json"]),
    };

    /// <summary>
    /// The files of the model in <paramref name="repo"/>, config.json first. Throws (one line) for an unsupported
    /// model_type, missing weights, a missing tokenizer file, or a shard name that would leave the snapshot folder.
    /// </summary>
    public static IReadOnlyList<string> Plan(IRepoFiles repo)
    {
        var configPath = repo.Fetch(Config) ?? throw repo.Lacks(Config, "every model has");
        var modelType = ModelTypeIn(configPath, repo.Id);
        if (!SupportedTypes.Contains(modelType)) throw HubErrors.UnsupportedType(repo.Id, modelType, repo.Commit);

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
        var (required, optional) = TokenizerFiles(modelType);
        foreach (var file in required)
        {
            if (!repo.Exists(file)) throw repo.Lacks(file, $"a {modelType} model's tokenizer needs");
            files.Add(file);
        }
        files.AddRange(optional.Where(repo.Exists));
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
        catch (JsonException e)
        {
            throw new PretrainedModelException($"{id}'s config.json is not valid JSON ({e.Message.Split('\n')[0]}); the repository is not a transformers model.");
        }
    }
}
