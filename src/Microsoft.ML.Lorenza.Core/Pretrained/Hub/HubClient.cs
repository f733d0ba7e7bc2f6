using System.Net;
using System.Net.Http.Headers;

namespace Microsoft.ML.Lorenza.Pretrained.Hub;

/// <summary>What the hub says about one file at a revision: the commit the revision points to, the content's etag
/// (the SHA-256 of an LFS file), its size, and where its bytes are (the storage host for an LFS file).</summary>
internal sealed record HubFileMetadata(string File, string Commit, string Etag, long Size, Uri Location)
{
    /// <summary>An LFS file's etag is the SHA-256 of its content (64 hex digits), checked after the transfer.</summary>
    public bool EtagIsSha256 => Etag.Length == 64 && Etag.All(char.IsAsciiHexDigit);
}

/// <summary>The hub could not be reached at all (no connection, a timeout, a failing server, something that is not a hub answering): the cache may stand in.</summary>
internal sealed class HubUnreachableException(string reason, Exception? inner = null) : Exception(reason, inner);

/// <summary>
/// The hub refused the repository (not found, private, gated, a token without access): the cache may stand in when it
/// holds the revision (as huggingface_hub does); otherwise <see cref="Error"/> is the one line to show.
/// </summary>
internal sealed class HubAccessDeniedException(PretrainedModelException error) : Exception(error.Message, error)
{
    public PretrainedModelException Error { get; } = error;
}

/// <summary>
/// The hub's file protocol, as Python's huggingface_hub speaks it. Metadata: a HEAD request to
/// {endpoint}/{org/name}/resolve/{revision}/{file} (revision and file URL-escaped) with its own short timeout, following
/// redirects within the hub's host (a renamed repository); the answer's X-Repo-Commit, X-Linked-Etag (else ETag,
/// without quotes or W/) and X-Linked-Size (else Content-Length) describe the file, and a redirect to another host
/// (the LFS storage) is where its bytes are. Content: a GET there, following redirects, with the Authorization header
/// sent only to the hub's own host. An error answer's X-Error-Code becomes <see cref="HubErrors"/>' one line.
/// Proxies come from HTTPS_PROXY / HTTP_PROXY / NO_PROXY (.NET's default proxy).
/// </summary>
internal sealed class HubClient : IDisposable
{
    private const int MaxRedirects = 10;
    private readonly HubSettings settings;
    private readonly HttpClient http;

    public HubClient(HubSettings settings)
    {
        this.settings = settings;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false, // followed here, to drop the token when the host changes
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = settings.EtagTimeout,
            UseProxy = true,
        };
        http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.UserAgent.ParseAdd($"Microsoft.ML.Lorenza/{typeof(HubClient).Assembly.GetName().Version?.ToString(3) ?? "0"}");
        http.DefaultRequestHeaders.UserAgent.ParseAdd("hf_hub/compatible");
        // The real size, and byte ranges that mean what they say.
        http.DefaultRequestHeaders.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
    }

    /// <summary>The URL of a file at a revision: {endpoint}/{org/name}/resolve/{revision}/{file}.</summary>
    public static Uri ResolveUrl(Uri endpoint, HubModelId id, string revision, string file) =>
        new($"{endpoint.AbsoluteUri.TrimEnd('/')}/{id.RepoId}/resolve/{Uri.EscapeDataString(revision)}/{string.Join('/', file.Split('/').Select(Uri.EscapeDataString))}");

    /// <summary>
    /// The file's metadata; null when the repository has no such file at that revision (EntryNotFound), after recording
    /// that in the cache's .no_exist when the answer named the commit. Throws <see cref="HubUnreachableException"/> when
    /// the hub cannot be reached and <see cref="PretrainedModelException"/> (one line) when it refuses.
    /// </summary>
    public HubFileMetadata? Head(HubModelId id, string revision, string file, HubCache cache, CancellationToken ct)
    {
        var url = ResolveUrl(settings.Endpoint, id, revision, file);
        for (var hop = 0; ; hop++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(settings.EtagTimeout);
            HttpResponseMessage response;
            try
            {
                using var request = Request(HttpMethod.Head, url);
                response = http.Send(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            }
            catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
            {
                throw new HubUnreachableException($"no answer from {settings.Endpoint.GetLeftPart(UriPartial.Authority)} within {settings.EtagTimeout.TotalSeconds:F0} s ({HubSettings.EtagTimeoutVariable})", e);
            }
            catch (HttpRequestException e)
            {
                throw new HubUnreachableException(Scrub(HttpTransfer.Reason(e)), e);
            }

            using (response)
            {
                var status = (int)response.StatusCode;
                var location = response.Headers.Location is { } l ? new Uri(url, l) : null;
                if (status is >= 300 and < 400 && location is not null && SameHost(location, settings.Endpoint) && hop < MaxRedirects)
                {
                    url = location; // a renamed repository: the hub points to its new name on the same host
                    continue;
                }
                if (status >= 400)
                {
                    var error = new HttpStatusError(url, response.StatusCode, response.ReasonPhrase, response.Headers);
                    if (error.ErrorCode == "EntryNotFound")
                    {
                        if (error.RepoCommit is { } missingAt && HubModelId.IsCommitHash(missingAt))
                        {
                            cache.MarkMissing(missingAt, file);
                            cache.WriteRef(revision, missingAt);
                        }
                        return null;
                    }
                    if (error.IsTransient)
                        throw new HubUnreachableException($"{settings.Endpoint.GetLeftPart(UriPartial.Authority)} answered HTTP {status} {response.ReasonPhrase}", error);
                    var refused = HubErrors.Refused(id, revision, file, error, settings);
                    if (error.ErrorCode is "RepoNotFound" or "GatedRepo" || error.Status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                        throw new HubAccessDeniedException(refused);
                    throw refused;
                }

                var commit = HttpStatusError.First(response.Headers, "X-Repo-Commit");
                var etag = Normalize(HttpStatusError.First(response.Headers, "X-Linked-Etag") ?? response.Headers.ETag?.ToString());
                var sizeText = HttpStatusError.First(response.Headers, "X-Linked-Size");
                long? size = long.TryParse(sizeText, out var linked) ? linked : status is >= 300 and < 400 ? null : response.Content.Headers.ContentLength;
                if (commit is null || etag is null || size is null)
                {
                    // A captive portal or a proxy answering in the hub's place: as huggingface_hub, the cache may stand in.
                    var notAHub = HubErrors.NotAHub(url, settings, commit is null ? "X-Repo-Commit" : etag is null ? "ETag" : "X-Linked-Size or Content-Length");
                    throw new HubUnreachableException(notAHub.Message.TrimEnd('.'), notAHub);
                }
                // Both become path components in the cache (snapshots/<commit>, blobs/<etag>, and the commit goes into refs/):
                // refused here, before anything is written, unless plain.
                return new HubFileMetadata(file, HubCache.CheckedCommit(commit.ToLowerInvariant()), HubCache.CheckedEtag(etag), size.Value, location ?? url);
            }
        }
    }

    /// <summary>
    /// Downloads <paramref name="file"/>'s bytes into <paramref name="path"/> (a new file), resuming cut transfers with
    /// Range requests. The token goes only to the hub's own host: never to the storage host a redirect leads to.
    /// </summary>
    public TransferResult Download(HubFileMetadata file, string path, string what, Action<long> onBytes, Action<string>? log, CancellationToken ct)
    {
        var options = new TransferOptions
        {
            StallTimeout = settings.DownloadTimeout,
            RetryDelay = settings.RetryDelay,
            OnBytes = onBytes,
            Log = log is null ? null : line => log(Scrub(line)),
            CancellationToken = ct,
        };
        return HttpTransfer.Download((offset, token) => Get(file.Location, offset, token), path, file.Size, what, options);
    }

    private HttpResponseMessage Get(Uri start, long offset, CancellationToken ct)
    {
        var url = start;
        for (var hop = 0; ; hop++)
        {
            using var request = Request(HttpMethod.Get, url);
            HttpTransfer.AddRange(request, offset);
            HttpResponseMessage response;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                timeout.CancelAfter(settings.DownloadTimeout + settings.EtagTimeout);
                response = http.Send(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            }
            var status = (int)response.StatusCode;
            if (status is >= 300 and < 400 && response.Headers.Location is { } location && hop < MaxRedirects)
            {
                url = new Uri(url, location);
                response.Dispose();
                continue;
            }
            if (status >= 400)
            {
                var error = new HttpStatusError(url, response.StatusCode, response.ReasonPhrase, response.Headers);
                response.Dispose();
                throw error;
            }
            return HttpTransfer.EnsureSuccess(response, url);
        }
    }

    // The Authorization header only for the hub's own host: a storage host behind a redirect gets a signed URL instead.
    private HttpRequestMessage Request(HttpMethod method, Uri url)
    {
        var request = new HttpRequestMessage(method, url);
        if (settings.Token is { } token && SameHost(url, settings.Endpoint))
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Value);
        return request;
    }

    private static bool SameHost(Uri a, Uri b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase) && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    /// <summary>An ETag without the weak prefix W/ and the quotes, as the blob's file name.</summary>
    public static string? Normalize(string? etag)
    {
        if (etag is null) return null;
        var value = etag.Trim();
        if (value.StartsWith("W/", StringComparison.Ordinal)) value = value[2..];
        value = value.Trim('"');
        return value.Length == 0 ? null : value;
    }

    private string Scrub(string text) => settings.Token?.Scrub(text) ?? text;

    public void Dispose() => http.Dispose();
}
