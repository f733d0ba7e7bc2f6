using System.Net;

namespace Microsoft.ML.Lorenza.Pretrained.Hub;

/// <summary>
/// The one-line messages of the hub source: each names the model (and the revision, file, cache folder or variable
/// concerned) and what to do. None of them holds the token: at most where it came from.
/// </summary>
internal static class HubErrors
{
    public const string LoginHint = "or log in once with Python's `huggingface-cli login`";

    /// <summary>The hub refused a request (X-Error-Code, or the status alone).</summary>
    public static PretrainedModelException Refused(HubModelId id, string revision, string file, HttpStatusError error, HubSettings settings)
    {
        var page = $"{settings.Endpoint.AbsoluteUri.TrimEnd('/')}/{id.RepoId}";
        var token = settings.Token;
        var message = error.ErrorCode switch
        {
            "GatedRepo" => token is null
                ? $"{id.RepoId} is a gated model: accept its terms at {page} while logged in, then set {HubToken.Variable} to an access token of that account ({LoginHint})."
                : $"{id.RepoId} is a gated model and {token} has no access to it: accept its terms at {page} with the account the token belongs to, or set {HubToken.Variable} to a token of an account that has.",
            "RevisionNotFound" =>
                $"{id.RepoId} has no revision '{revision}': give a branch, a tag or a 40-hex commit that exists after the @ (see {page}/tree/main), or leave out @{revision} for main.",
            "EntryNotFound" =>
                $"{id.RepoId} has no file {file} at revision '{revision}'.",
            _ when error.ErrorCode == "RepoNotFound" || error.Status is HttpStatusCode.Unauthorized or HttpStatusCode.NotFound => token is null
                ? $"{settings.Endpoint.Host} has no model {id.RepoId}, or it is private: check the id (org/name, as on the model's page), or for a private model set {HubToken.Variable} to an access token that can read it ({LoginHint})."
                : $"{settings.Endpoint.Host} has no model {id.RepoId}, or it is private and {token} cannot read it: check the id (org/name, as on the model's page) and the token's access.",
            _ => $"{settings.Endpoint.Host} refused {file} of {id}: HTTP {(int)error.Status} {error.ErrorMessage ?? error.Status.ToString()}" +
                 (error.Status == HttpStatusCode.Forbidden ? $"; check that {(token is null ? $"an access token ({HubToken.Variable})" : token.ToString())} may read it." : "."),
        };
        return new PretrainedModelException(Clean(message, settings));
    }

    /// <summary>An answer without the headers every hub sends: the endpoint (or a proxy in the way) is something else.</summary>
    public static PretrainedModelException NotAHub(Uri url, HubSettings settings, string header) =>
        new(Clean($"{url.GetLeftPart(UriPartial.Authority)} answered {url.AbsolutePath} without {header}, so it is not a Hugging Face Hub: " +
                  $"check {HubSettings.EndpointVariable} (now {settings.Endpoint.GetLeftPart(UriPartial.Authority)}) and the proxy variables (HTTPS_PROXY, NO_PROXY).", settings));

    public static PretrainedModelException MissingFile(HubModelId id, string commit, string file, string why) =>
        new($"{id.RepoId} has no {file} at commit {commit} ({id.Revision}), which {why}; this repository cannot be fine-tuned here.");

    public static PretrainedModelException NoWeights(HubModelId id, string commit) =>
        new($"{id.RepoId} has no PyTorch weights at commit {commit} ({id.Revision}): none of {string.Join(", ", HubModelFiles.WeightCandidates)} " +
            "(a TensorFlow, Flax, ONNX or GGUF-only repository); choose a repository with model.safetensors or pytorch_model.bin.");

    public static PretrainedModelException UnsupportedType(HubModelId id, string? modelType, string commit) =>
        new($"{id} is a '{modelType}' model; this version fine-tunes model types {string.Join(", ", HubModelFiles.SupportedTypes)} only " +
            $"(only config.json of commit {commit[..12]} was downloaded; nothing else).");

    /// <summary>HF_HUB_OFFLINE is set and the cache lacks what the model needs.</summary>
    public static PretrainedModelException OfflineMissing(HubModelId id, HubCache cache, string what) =>
        new($"{HubSettings.OfflineVariable} is set and the hub cache {cache.Root} lacks {id}: it {what}; run once without {HubSettings.OfflineVariable} " +
            $"(or copy the cache from a machine that has the model, or set {HubSettings.CacheVariable} to such a cache).");

    /// <summary>The hub cannot be reached and the cache cannot stand in.</summary>
    public static PretrainedModelException Unreachable(HubModelId id, HubSettings settings, string reason, string cacheLacks) =>
        new(Clean($"cannot download {id} from {settings.Endpoint.GetLeftPart(UriPartial.Authority)} ({reason}), and the hub cache {settings.CacheRoot} lacks it: it {cacheLacks}; " +
                  $"connect to the network (HTTPS_PROXY for a proxy), set {HubSettings.EndpointVariable} to a reachable mirror, or fill the cache on a connected machine " +
                  $"and use it here with {HubSettings.OfflineVariable}=1.", settings));

    public static string Clean(string message, HubSettings settings) =>
        settings.Token?.Scrub(message.ReplaceLineEndings(" ")) ?? message.ReplaceLineEndings(" ");
}
