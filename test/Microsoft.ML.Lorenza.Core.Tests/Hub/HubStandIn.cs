using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Microsoft.ML.Lorenza.Tests.Hub;

/// <summary>
/// One request the stand-in received: what the tests check about hosts, tokens and ranges. It is recorded when it
/// arrives and its status set before the answer leaves, so a client that has its answer finds it in the log.
/// </summary>
internal sealed class HubRequest(string method, string host, string path, string? authorization, string? range)
{
    private int status;
    public string Method { get; } = method;
    public string Host { get; } = host;
    public string Path { get; } = path;
    public string? Authorization { get; } = authorization;
    public string? Range { get; } = range;

    /// <summary>The status sent; negative for a transfer cut on purpose; 0 while unanswered.</summary>
    public int Status { get => Volatile.Read(ref status); set => Volatile.Write(ref status, value); }
}

/// <summary>A repository the stand-in serves: commits (file name → bytes), branches and tags, gated or not.</summary>
internal sealed class StandInRepo(string id)
{
    public string Id { get; } = id;
    public Dictionary<string, Dictionary<string, byte[]>> Commits { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, string> Refs { get; } = new(StringComparer.Ordinal);

    /// <summary>Gated: served only with "Authorization: Bearer" and the stand-in's <see cref="HubStandIn.Token"/>.</summary>
    public bool Gated { get; init; }

    /// <summary>Adds a commit (its hash derived from the files) and points <paramref name="refs"/> (default main) to it.</summary>
    public string AddCommit(IReadOnlyDictionary<string, byte[]> files, params string[] refs)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha.AppendData(Encoding.UTF8.GetBytes(Id));
        foreach (var (name, bytes) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(name));
            sha.AppendData(bytes);
        }
        var commit = Convert.ToHexStringLower(sha.GetHashAndReset());
        Commits[commit] = new Dictionary<string, byte[]>(files, StringComparer.Ordinal);
        foreach (var name in refs.Length == 0 ? ["main"] : refs) Refs[name] = commit;
        return commit;
    }
}

/// <summary>
/// A stand-in for the Hugging Face Hub, on 127.0.0.1 (the hub) and localhost (its LFS storage) on one free port, speaking
/// the hub's file protocol: HEAD and GET /{org}/{name}/resolve/{revision}/{file} with X-Repo-Commit, ETag (a git blob
/// hash for small files, some weak) and, for LFS files (weights), a 302 to the storage host with X-Linked-Etag (the
/// SHA-256) and X-Linked-Size; X-Error-Code RepoNotFound / GatedRepo / RevisionNotFound / EntryNotFound; a relative
/// redirect for a renamed repository. On demand the hub host answers metadata late, and the storage host (which serves
/// Range requests) cuts a transfer in the middle, stalls one, ignores ranges, or corrupts a byte. Every request is recorded.
/// </summary>
internal sealed class HubStandIn : IDisposable
{
    public const string Token = "hf_StandInTokenFor7ests0nly";
    private readonly HttpListener listener = new();
    private readonly Task loop;
    private readonly Dictionary<string, StandInRepo> repos = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> blobs = new(StringComparer.Ordinal);

    public HubStandIn()
    {
        Port = FreePort();
        listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        listener.Prefixes.Add($"http://localhost:{Port}/");
        listener.Start();
        loop = Task.Run(Serve);
    }

    public int Port { get; }

    /// <summary>The hub's address, what HF_ENDPOINT is set to.</summary>
    public string Endpoint => $"http://127.0.0.1:{Port}";

    /// <summary>The storage host's name:port, where LFS files are redirected.</summary>
    public string StorageHost => $"localhost:{Port}";

    public ConcurrentQueue<HubRequest> Requests { get; } = new();

    /// <summary>The next this many storage transfers are cut after <see cref="CutFraction"/> of the bytes they send.</summary>
    public int CutsLeft;

    public double CutFraction { get; set; } = 0.4;

    /// <summary>The storage host answers Range requests with the whole file (200), as some CDNs do.</summary>
    public bool IgnoreRange { get; set; }

    /// <summary>The storage host flips one byte of what it sends (the SHA-256 check must catch it).</summary>
    public bool Corrupt { get; set; }

    /// <summary>The hub host answers everything with a 200 HTML page, as a captive portal or a misconfigured proxy does.</summary>
    public bool Portal { get; set; }

    /// <summary>The hub host waits this long before answering a metadata (HEAD) request, as a hub that hangs.</summary>
    public TimeSpan HeadDelay { get; set; }

    /// <summary>The next this many storage transfers stop sending for <see cref="StallFor"/> after <see cref="CutFraction"/> of their bytes, then go on.</summary>
    public int StallsLeft;

    public TimeSpan StallFor { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Sent as X-Repo-Commit instead of the commit, as a hostile server or a broken proxy would.</summary>
    public string? ForgedCommit { get; set; }

    /// <summary>Sent as every ETag and X-Linked-Etag instead of the content's hash.</summary>
    public string? ForgedEtag { get; set; }

    /// <summary>Renamed repositories: old id → new id, answered with a relative 307 as the hub does.</summary>
    public Dictionary<string, string> Renamed { get; } = new(StringComparer.Ordinal);

    public StandInRepo AddRepo(string id, bool gated = false)
    {
        var repo = new StandInRepo(id) { Gated = gated };
        lock (repos) repos[id] = repo;
        return repo;
    }

    /// <summary>Files served through the LFS storage host (etag = SHA-256): the weights and shards, as on the hub.</summary>
    public static bool IsLfs(string file) => file.EndsWith(".safetensors", StringComparison.Ordinal) || file.EndsWith(".bin", StringComparison.Ordinal);

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>Git's blob id, the hub's ETag for a file kept in git itself.</summary>
    public static string GitBlobId(byte[] bytes) =>
        Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {bytes.Length}\0"), .. bytes]));

    public IEnumerable<HubRequest> ToStorage => Requests.Where(r => r.Host == StorageHost);

    public IEnumerable<HubRequest> ToHub => Requests.Where(r => r.Host != StorageHost);

    private async Task Serve()
    {
        while (true)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            _ = Task.Run(() => Handle(context));
        }
    }

    private void Handle(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var host = request.Headers["Host"] ?? "";
        current = new HubRequest(request.HttpMethod, host, request.RawUrl ?? "", request.Headers["Authorization"], request.Headers["Range"]);
        Requests.Enqueue(current);
        try
        {
            var path = request.RawUrl ?? "/";
            if (host == StorageHost && path.StartsWith("/lfs/", StringComparison.Ordinal))
                ServeBlob(request, response, path["/lfs/".Length..].Split('?')[0]);
            else if (host != StorageHost)
                ServeHub(request, response, path);
            else
                Error(response, 400, null, "storage serves /lfs/ only");
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // the client went away, or the connection was cut on purpose
        }
        finally
        {
            current = null;
        }
    }

    private int ServeHub(HttpListenerRequest request, HttpListenerResponse response, string rawPath)
    {
        // /{org}/{name}/resolve/{revision}/{file...}, each segment URL-escaped (a revision's '/' is %2F)
        if (Portal)
        {
            var page = Encoding.UTF8.GetBytes("<html><body>Please sign in to the guest network.</body></html>");
            response.ContentType = "text/html";
            response.ContentLength64 = page.Length;
            if (request.HttpMethod == "GET") response.OutputStream.Write(page);
            Close(response);
            return 200;
        }
        if (request.HttpMethod == "HEAD" && HeadDelay > TimeSpan.Zero) Thread.Sleep(HeadDelay);
        var segments = rawPath.Split('?')[0].TrimStart('/').Split('/');
        if (segments.Length < 5 || segments[2] != "resolve") return Error(response, 404, null, "not a resolve URL", request.HttpMethod == "HEAD");
        var id = $"{segments[0]}/{segments[1]}";
        var revision = Uri.UnescapeDataString(segments[3]);
        var file = string.Join('/', segments[4..].Select(Uri.UnescapeDataString));
        if (Renamed.TryGetValue(id, out var newId))
        {
            response.RedirectLocation = $"/{newId}/resolve/{segments[3]}/{string.Join('/', segments[4..])}";
            response.StatusCode = 307;
            Close(response);
            return 307;
        }
        StandInRepo? repo;
        lock (repos) repos.TryGetValue(id, out repo);
        if (repo is null) return Error(response, 401, "RepoNotFound", "Repository not found", request.HttpMethod == "HEAD");
        if (repo.Gated)
        {
            var authorization = request.Headers["Authorization"];
            if (authorization is null) return Error(response, 401, "GatedRepo", "Access to model is restricted. You must have access to it and be authenticated to access it. Please log in.", request.HttpMethod == "HEAD");
            if (authorization != $"Bearer {Token}") return Error(response, 403, "GatedRepo", "Access to model is restricted and you are not in the authorized list.", request.HttpMethod == "HEAD");
        }
        var commit = repo.Refs.TryGetValue(revision, out var pointed) ? pointed : repo.Commits.ContainsKey(revision) ? revision : null;
        if (commit is null) return Error(response, 404, "RevisionNotFound", "Invalid rev id: " + revision, request.HttpMethod == "HEAD");
        response.AddHeader("X-Repo-Commit", ForgedCommit ?? commit);
        if (!repo.Commits[commit].TryGetValue(file, out var bytes)) return Error(response, 404, "EntryNotFound", "Entry not found", request.HttpMethod == "HEAD");

        if (IsLfs(file))
        {
            var sha = Sha256(bytes);
            lock (blobs) blobs[sha] = bytes;
            response.AddHeader("X-Linked-Etag", $"\"{ForgedEtag ?? sha}\"");
            response.AddHeader("X-Linked-Size", bytes.Length.ToString());
            response.AddHeader("ETag", $"\"{GitBlobId(Encoding.ASCII.GetBytes($"version https://git-lfs.github.com/spec/v1\noid sha256:{sha}\nsize {bytes.Length}\n"))}\"");
            response.RedirectLocation = $"http://{StorageHost}/lfs/{sha}?X-Amz-Signature=standin&expires=3600";
            response.StatusCode = 302;
            response.ContentLength64 = 0;
            Close(response);
            return 302;
        }
        // Some small files get a weak ETag, which clients must normalize.
        var etag = GitBlobId(bytes);
        if (ForgedEtag is not null) etag = ForgedEtag;
        response.AddHeader("ETag", file.EndsWith("tokenizer_config.json", StringComparison.Ordinal) ? $"W/\"{etag}\"" : $"\"{etag}\"");
        response.ContentLength64 = bytes.Length;
        if (request.HttpMethod == "GET") response.OutputStream.Write(bytes);
        Close(response);
        return 200;
    }

    private int ServeBlob(HttpListenerRequest request, HttpListenerResponse response, string sha)
    {
        byte[]? bytes;
        lock (blobs) blobs.TryGetValue(sha, out bytes);
        if (bytes is null) return Error(response, 404, null, "no such blob", request.HttpMethod == "HEAD");
        long start = 0;
        var range = request.Headers["Range"];
        if (range is not null && !IgnoreRange && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-')
            && long.TryParse(range["bytes=".Length..^1], out var from) && from < bytes.Length)
            start = from;
        var body = bytes.AsSpan((int)start).ToArray();
        if (Corrupt && body.Length > 0) body[body.Length / 2] ^= 0x20;
        response.StatusCode = start > 0 ? 206 : 200;
        if (start > 0) response.AddHeader("Content-Range", $"bytes {start}-{bytes.Length - 1}/{bytes.Length}");
        response.AddHeader("Accept-Ranges", "bytes");
        response.AddHeader("ETag", $"\"{sha}\"");
        response.ContentLength64 = body.Length;
        if (request.HttpMethod != "GET")
        {
            Close(response);
            return response.StatusCode;
        }
        bool cutThis, stallThis;
        lock (blobs)
        {
            if (cutThis = CutsLeft > 0) CutsLeft--;
            if (stallThis = !cutThis && StallsLeft > 0) StallsLeft--;
        }
        if (stallThis)
        {
            var part = (int)(body.Length * CutFraction);
            response.OutputStream.Write(body, 0, part);
            response.OutputStream.Flush();
            Thread.Sleep(StallFor); // the client's stall timeout gives up on this connection meanwhile
            response.OutputStream.Write(body, part, body.Length - part);
            Close(response);
            return response.StatusCode;
        }
        if (cutThis)
        {
            var cut = (int)(body.Length * CutFraction);
            if (cut > 0)
            {
                response.OutputStream.Write(body, 0, cut);
                response.OutputStream.Flush();
            }
            current!.Status = -response.StatusCode;
            response.Abort(); // the connection drops in the middle of the body
            return -response.StatusCode;
        }
        response.OutputStream.Write(body);
        Close(response);
        return response.StatusCode;
    }

    private static int Error(HttpListenerResponse response, int status, string? code, string message, bool head = false)
    {
        response.StatusCode = status;
        if (code is not null) response.AddHeader("X-Error-Code", code);
        response.AddHeader("X-Error-Message", message);
        var body = Encoding.UTF8.GetBytes($"{{\"error\":\"{message}\"}}");
        response.ContentType = "application/json";
        response.ContentLength64 = body.Length;
        if (!head) response.OutputStream.Write(body);
        Close(response);
        return status;
    }

    // The request being answered on this thread (each is answered synchronously on one thread).
    [ThreadStatic]
    private static HubRequest? current;

    /// <summary>Records the status, then sends the answer.</summary>
    private static void Close(HttpListenerResponse response)
    {
        if (current is not null) current.Status = response.StatusCode;
        response.Close();
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        listener.Close();
        loop.Wait(TimeSpan.FromSeconds(10));
    }
}
