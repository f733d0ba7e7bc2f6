namespace Microsoft.ML.Lorenza.Pretrained.Hub;

/// <summary>
/// The access token for gated and private repositories, found as Python's huggingface_hub finds it: the option, else
/// HF_TOKEN (or the older HUGGING_FACE_HUB_TOKEN), else the file HF_TOKEN_PATH, else $HF_HOME/token (what
/// <c>huggingface-cli login</c> writes). The value is only ever put in an Authorization header to the hub's own host:
/// <see cref="ToString"/> names where it came from, never the value.
/// </summary>
internal sealed class HubToken
{
    public const string Variable = "HF_TOKEN";
    public const string PathVariable = "HF_TOKEN_PATH";

    private HubToken(string value, string source) => (Value, Source) = (value, source);

    public string Value { get; }

    /// <summary>Where it came from, for messages: "HF_TOKEN", "the file ~/.cache/huggingface/token", "the option".</summary>
    public string Source { get; }

    public override string ToString() => $"the token from {Source}";

    /// <summary>The token in force, or null when none is set.</summary>
    public static HubToken? Find(string? option, Func<string, string?> env, string hfHome)
    {
        if (Clean(option) is { } given) return new HubToken(given, "PretrainedModelOptions.HubToken");
        if (Clean(env(Variable)) is { } fromEnv) return new HubToken(fromEnv, Variable);
        if (Clean(env("HUGGING_FACE_HUB_TOKEN")) is { } legacy) return new HubToken(legacy, "HUGGING_FACE_HUB_TOKEN");
        var path = env(PathVariable) is { Length: > 0 } p ? HubSettings.ExpandHome(p) : Path.Combine(hfHome, "token");
        try
        {
            if (File.Exists(path) && Clean(File.ReadAllText(path)) is { } fromFile) return new HubToken(fromFile, $"the file {path}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return null;
    }

    /// <summary>Removes the token from a text (a server's error message could echo it).</summary>
    public string Scrub(string text) => Value.Length >= 4 ? text.Replace(Value, "<token>", StringComparison.Ordinal) : text;

    private static string? Clean(string? token) => token?.Replace("\r", "").Replace("\n", "").Trim() is { Length: > 0 } t ? t : null;
}
