using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Microsoft.ML.Lorenza.Pretrained;

/// <summary>An HTTP answer with an error status, with what a server said about it (the Hugging Face Hub's X-Error-Code and X-Error-Message).</summary>
internal sealed class HttpStatusError(Uri url, HttpStatusCode status, string? reason, HttpResponseHeaders headers)
    : Exception($"HTTP {(int)status} {reason} for {url.GetLeftPart(UriPartial.Path)}")
{
    public Uri Url { get; } = url;
    public HttpStatusCode Status { get; } = status;
    public string? ErrorCode { get; } = First(headers, "X-Error-Code");
    public string? ErrorMessage { get; } = First(headers, "X-Error-Message");
    public string? RepoCommit { get; } = First(headers, "X-Repo-Commit");

    /// <summary>Worth another try later: the server is busy or failing, not refusing.</summary>
    public bool IsTransient => (int)Status >= 500 || Status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;

    internal static string? First(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}

/// <summary>A transfer that failed for good: the network kept cutting it, or the server sent another length than it announced.</summary>
internal sealed class TransferFailedException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>How a transfer went: bytes written, the content's hash, how often it resumed with Range or restarted from zero.</summary>
internal sealed record TransferResult(long Bytes, string HashHex, int Resumes, int Restarts, TimeSpan Elapsed);

/// <summary>The settings of one <see cref="HttpTransfer.Download"/>.</summary>
internal sealed class TransferOptions
{
    /// <summary>A read that receives nothing for this long counts as a cut connection (a total timeout would cut slow but healthy links).</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Consecutive failed attempts before giving up; getting further into the content than ever before starts the count
    /// again (bytes that only repeat what a restart threw away do not: a server that cuts every answer at the same
    /// point would otherwise be asked forever).
    /// </summary>
    public int Retries { get; init; } = 5;

    /// <summary>The wait before the first retry, doubled each time up to 8 s.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(0.5);

    public HashAlgorithmName Hash { get; init; } = HashAlgorithmName.SHA256;

    /// <summary>Bytes received (negative when a restart throws away what was received).</summary>
    public Action<long>? OnBytes { get; init; }

    public Action<string>? Log { get; init; }

    public CancellationToken CancellationToken { get; init; }
}

/// <summary>
/// Downloads one HTTP resource into a new file, shared by the NuGet and Hugging Face Hub sources: a connection cut in
/// the middle (or a stalled read) is resumed with a Range request from the bytes already written, a few times; a server
/// that answers the range with the whole resource (200) is read again from zero; the content is hashed on the way and
/// its length checked. The caller owns the file: it moves it into place after checking the hash, or deletes it.
/// </summary>
internal static class HttpTransfer
{
    // A read from the network failed or stalled (as opposed to a write to the disk, which is not retried).
    private sealed class CutException(string reason, Exception? inner = null) : Exception(reason, inner);

    /// <param name="open">Sends the request for the resource from byte <c>offset</c> on (a Range header when it is
    /// above 0) and returns the answer with its headers read, or throws <see cref="HttpStatusError"/>.</param>
    /// <param name="path">The new file to write.</param>
    /// <param name="expectedSize">The size the content must have, when known.</param>
    /// <param name="what">Names the transfer in log lines and errors ("config.json of org/name").</param>
    /// <param name="o">Timeouts, retries, hash and progress.</param>
    public static TransferResult Download(Func<long, CancellationToken, HttpResponseMessage> open, string path, long? expectedSize, string what, TransferOptions o)
    {
        var ct = o.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        var hash = IncrementalHash.CreateHash(o.Hash);
        try
        {
            long received = 0, furthest = 0;
            int failures = 0, resumes = 0, restarts = 0;
            var buffer = new byte[1 << 20];
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                try
                {
                    using var response = Open(open, received, ct);
                    if (received > 0 && response.StatusCode == HttpStatusCode.OK)
                    {
                        // The server ignored the range: what it sends starts at byte 0.
                        o.Log?.Invoke($"{what}: {response.RequestMessage?.RequestUri?.Host} answered the Range request with the whole file; reading it again from the start");
                        file.SetLength(0);
                        file.Position = 0;
                        hash.Dispose();
                        hash = IncrementalHash.CreateHash(o.Hash);
                        o.OnBytes?.Invoke(-received);
                        received = 0;
                        restarts++;
                    }
                    else if (received > 0 && response.Content.Headers.ContentRange?.From != received)
                        throw new CutException($"the server answered the range from byte {received} with {response.Content.Headers.ContentRange?.ToString() ?? "no Content-Range"}");
                    else if (received == 0 && response.StatusCode != HttpStatusCode.OK)
                        throw new CutException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase} where 200 was expected");

                    using var body = ReadStream(response, ct);
                    int read;
                    while ((read = ReadWithStallTimeout(body, buffer, o.StallTimeout, ct)) > 0)
                    {
                        file.Write(buffer, 0, read);
                        hash.AppendData(buffer, 0, read);
                        received += read;
                        if (received > furthest) (furthest, failures) = (received, 0);
                        o.OnBytes?.Invoke(read);
                    }
                    if (expectedSize is { } size && received < size)
                        throw new CutException($"the connection closed after {received:N0} of {size:N0} bytes");
                    break;
                }
                catch (CutException e)
                {
                    failures++;
                    if (failures > o.Retries)
                        throw new TransferFailedException($"{what}: {e.Message}; gave up after {o.Retries} retries", e.InnerException);
                    var delay = TimeSpan.FromTicks(Math.Min(o.RetryDelay.Ticks << Math.Min(failures - 1, 10), TimeSpan.FromSeconds(8).Ticks));
                    o.Log?.Invoke($"{what}: {e.Message} after {received:N0} bytes; " +
                                  (received > 0 ? $"resuming from byte {received:N0} with a Range request" : "trying again") + $" (retry {failures} of {o.Retries})");
                    if (received > 0) resumes++;
                    if (ct.WaitHandle.WaitOne(delay)) ct.ThrowIfCancellationRequested();
                }
            }
            file.Flush(flushToDisk: true);
            if (expectedSize is { } expected && received != expected)
                throw new TransferFailedException($"{what}: received {received:N0} bytes, but the server announced {expected:N0}");
            return new TransferResult(received, Convert.ToHexStringLower(hash.GetHashAndReset()), resumes, restarts, clock.Elapsed);
        }
        finally
        {
            hash.Dispose();
        }
    }

    /// <summary>The answer's status as an exception: <see cref="HttpStatusError"/> for a status other than 200 and 206.</summary>
    public static HttpResponseMessage EnsureSuccess(HttpResponseMessage response, Uri url)
    {
        if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.PartialContent) return response;
        var error = new HttpStatusError(url, response.StatusCode, response.ReasonPhrase, response.Headers);
        response.Dispose();
        throw error;
    }

    /// <summary>A Range header for the bytes from <paramref name="offset"/> on (none from 0).</summary>
    public static void AddRange(HttpRequestMessage request, long offset)
    {
        if (offset > 0) request.Headers.Range = new RangeHeaderValue(offset, null);
    }

    // Failing to connect, a transient status, and a timeout waiting for the headers are cuts like any other.
    private static HttpResponseMessage Open(Func<long, CancellationToken, HttpResponseMessage> open, long offset, CancellationToken ct)
    {
        try { return open(offset, ct); }
        catch (HttpStatusError e) when (e.IsTransient) { throw new CutException(e.Message, e); }
        catch (HttpRequestException e) when (e.StatusCode is null) { throw new CutException(Reason(e), e); }
        catch (IOException e) { throw new CutException(Reason(e), e); }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested) { throw new CutException("no answer in time", e); }
    }

    private static Stream ReadStream(HttpResponseMessage response, CancellationToken ct)
    {
        try { return response.Content.ReadAsStream(ct); }
        catch (Exception e) when (e is HttpRequestException or IOException) { throw new CutException(Reason(e), e); }
    }

    private static int ReadWithStallTimeout(Stream body, byte[] buffer, TimeSpan stallTimeout, CancellationToken ct)
    {
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(ct);
        stall.CancelAfter(stallTimeout);
        try { return body.ReadAsync(buffer, stall.Token).AsTask().GetAwaiter().GetResult(); }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested) { throw new CutException($"no data for {stallTimeout.TotalSeconds:F0} s", e); }
        catch (Exception e) when (e is HttpRequestException or IOException) { throw new CutException(Reason(e), e); }
    }

    /// <summary>The innermost useful sentence of a network exception, without the trailing period.</summary>
    public static string Reason(Exception e)
    {
        var inner = e;
        while (inner.InnerException is not null && inner is HttpRequestException or IOException) inner = inner.InnerException;
        // "The response ended prematurely, with at least 5 additional bytes expected. (ResponseEnded)": the sentence alone.
        return System.Text.RegularExpressions.Regex.Replace(inner.Message.Split('\n')[0], @"\.?\s*\([A-Za-z]+\)$", "").TrimEnd('.');
    }
}
