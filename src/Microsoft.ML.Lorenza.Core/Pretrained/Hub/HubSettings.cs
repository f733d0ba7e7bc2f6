using System.Globalization;

namespace Microsoft.ML.Lorenza.Pretrained.Hub;

/// <summary>
/// Where and how models come from the Hugging Face Hub, read once per resolution from the options and the variables
/// Python's huggingface_hub reads, with its defaults: the endpoint (HF_ENDPOINT, https://huggingface.co), the cache
/// (HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub), offline
/// mode (HF_HUB_OFFLINE), the metadata timeout (HF_HUB_ETAG_TIMEOUT, 10 s), the transfer's stall timeout
/// (HF_HUB_DOWNLOAD_TIMEOUT, 10 s) and the token (<see cref="HubToken"/>).
/// </summary>
internal sealed class HubSettings
{
    public const string DefaultEndpoint = "https://huggingface.co";
    public const string EndpointVariable = "HF_ENDPOINT";
    public const string CacheVariable = "HF_HUB_CACHE";
    public const string HomeVariable = "HF_HOME";
    public const string OfflineVariable = "HF_HUB_OFFLINE";
    public const string EtagTimeoutVariable = "HF_HUB_ETAG_TIMEOUT";
    public const string DownloadTimeoutVariable = "HF_HUB_DOWNLOAD_TIMEOUT";

    public required Uri Endpoint { get; init; }
    public required string CacheRoot { get; init; }
    public required bool Offline { get; init; }
    public required TimeSpan EtagTimeout { get; init; }
    public required TimeSpan DownloadTimeout { get; init; }
    public HubToken? Token { get; init; }

    /// <summary>The wait before the first retry of a cut transfer (shorter in tests).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    public static HubSettings From(PretrainedModelOptions options) => From(options, Environment.GetEnvironmentVariable);

    public static HubSettings From(PretrainedModelOptions options, Func<string, string?> env)
    {
        var endpointText = (Text(options.HubEndpoint) ?? Text(env(EndpointVariable)) ?? DefaultEndpoint).TrimEnd('/');
        if (!Uri.TryCreate(endpointText, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
            throw new ArgumentException($"{EndpointVariable} = '{endpointText}' is not an http(s) URL; set it to the hub's address, e.g. {DefaultEndpoint}, or unset it.");
        var home = HomeOf(env);
        return new HubSettings
        {
            Endpoint = endpoint,
            CacheRoot = CacheRootOf(options.HubCacheDirectory, env),
            Offline = options.Offline ?? IsTrue(env(OfflineVariable) ?? env("TRANSFORMERS_OFFLINE")),
            EtagTimeout = Seconds(env, EtagTimeoutVariable, 10),
            DownloadTimeout = Seconds(env, DownloadTimeoutVariable, 10),
            Token = HubToken.Find(options.HubToken, env, home),
        };
    }

    /// <summary>HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface (on every system, as huggingface_hub).</summary>
    public static string HomeOf(Func<string, string?> env) =>
        Text(env(HomeVariable)) is { } home ? ExpandHome(home)
        : Text(env("XDG_CACHE_HOME")) is { } xdg ? Path.Combine(ExpandHome(xdg), "huggingface")
        : Path.Combine(UserHome(), ".cache", "huggingface");

    /// <summary>The option, else HF_HUB_CACHE (or the older HUGGINGFACE_HUB_CACHE), else <see cref="HomeOf"/>/hub.</summary>
    public static string CacheRootOf(string? option, Func<string, string?> env) =>
        Path.GetFullPath(Text(option) is { } given ? ExpandHome(given)
            : Text(env(CacheVariable)) is { } cache ? ExpandHome(cache)
            : Text(env("HUGGINGFACE_HUB_CACHE")) is { } legacy ? ExpandHome(legacy)
            : Path.Combine(HomeOf(env), "hub"));

    /// <summary>huggingface_hub's truth values: 1, ON, YES, TRUE (any case).</summary>
    public static bool IsTrue(string? value) => value?.Trim().ToUpperInvariant() is "1" or "ON" or "YES" or "TRUE";

    public static string ExpandHome(string path) =>
        path == "~" ? UserHome() : path.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(UserHome(), path[2..]) : path;

    private static string UserHome() => Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    private static string? Text(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static TimeSpan Seconds(Func<string, string?> env, string variable, double fallback)
    {
        if (Text(env(variable)) is not { } text) return TimeSpan.FromSeconds(fallback);
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0 && seconds < 1e6)
            return TimeSpan.FromSeconds(seconds);
        throw new ArgumentException($"{variable} = '{text}' is not a number of seconds; set it to e.g. {fallback} or unset it.");
    }
}
