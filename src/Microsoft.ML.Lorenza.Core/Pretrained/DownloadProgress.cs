using System.Diagnostics;
using System.Globalization;

namespace Microsoft.ML.Lorenza.Pretrained;

/// <summary>
/// Where a model download stands, reported through <see cref="PretrainedModelOptions.Progress"/> several times a second
/// and once more when it ends (<see cref="Finished"/>): the file being received and the whole download's bytes, the
/// rate and the time left.
/// </summary>
/// <param name="Model">The model being downloaded ("FacebookAI/roberta-base").</param>
/// <param name="File">The file being received.</param>
/// <param name="Bytes">Bytes received so far, all files together.</param>
/// <param name="TotalBytes">Bytes to receive, all files together.</param>
/// <param name="BytesPerSecond">The rate over the last seconds.</param>
/// <param name="Remaining">The time left at that rate; null before it can be told.</param>
/// <param name="Finished">True in the last report of the download.</param>
public sealed record DownloadProgress(string Model, string File, long Bytes, long TotalBytes, double BytesPerSecond, TimeSpan? Remaining, bool Finished)
{
    /// <summary>
    /// " 40 % (201.0 of 499.0 MB) 12.3 MB/s, 24 s left" — the line the log shows; without the rate and the time left while
    /// they cannot be told yet (the first fraction of a second), rather than "0.0 MB/s".
    /// </summary>
    public string Describe()
    {
        var percent = TotalBytes > 0 ? 100 * Bytes / TotalBytes : 100;
        var rate = BytesPerSecond > 0 ? string.Create(CultureInfo.InvariantCulture, $" {BytesPerSecond / 1e6:F1} MB/s") : "";
        var left = Finished ? "" : Remaining is { } time ? $", {FormatDuration(time)} left" : "";
        return string.Create(CultureInfo.InvariantCulture, $"{percent,3} % ({Bytes / 1e6:F1} of {TotalBytes / 1e6:F1} MB){rate}{left}");
    }

    public static string FormatDuration(TimeSpan t) =>
        t.TotalSeconds < 60 ? $"{Math.Ceiling(t.TotalSeconds):F0} s"
        : t.TotalHours < 1 ? $"{(int)t.TotalMinutes} min {t.Seconds:D2} s"
        : $"{(int)t.TotalHours} h {t.Minutes:D2} min";
}

/// <summary>
/// Counts the bytes of a download and turns them into <see cref="DownloadProgress"/> reports: to
/// <see cref="PretrainedModelOptions.Progress"/> at most ten times a second when it is set (a terminal's progress
/// bar), else as a plain line through the log at every tenth of the total or every 10 seconds.
/// </summary>
internal sealed class ProgressMeter(string model, long totalBytes, IProgress<DownloadProgress>? progress, Action<string>? log)
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly Queue<(double Seconds, long Bytes)> window = new();
    private readonly object gate = new();
    private long bytes;
    private double lastReport;
    private double firstByte = double.NaN;
    private long nextTenth = totalBytes / 10;
    private string file = "";

    public long Bytes => Interlocked.Read(ref bytes);

    public TimeSpan Elapsed => clock.Elapsed;

    public void StartFile(string name)
    {
        lock (gate) file = name;
    }

    public void Add(long delta)
    {
        lock (gate)
        {
            bytes += delta;
            var now = clock.Elapsed.TotalSeconds;
            if (double.IsNaN(firstByte)) firstByte = now;
            window.Enqueue((now, bytes));
            while (window.Count > 2 && window.Peek().Seconds < now - 5) window.Dequeue();
            if (progress is not null)
            {
                if (now - lastReport < 0.1) return;
                lastReport = now;
                progress.Report(Snapshot(now, finished: false));
            }
            else if (log is not null && bytes < totalBytes && (bytes >= nextTenth || now - lastReport >= 10))
            {
                lastReport = now;
                while (nextTenth <= bytes) nextTenth += Math.Max(1, totalBytes / 10);
                log("  " + Snapshot(now, finished: false).Describe());
            }
        }
    }

    public void Finish()
    {
        lock (gate) progress?.Report(Snapshot(clock.Elapsed.TotalSeconds, finished: true));
    }

    // The rate over the last seconds once they span half a second, else since the first byte; unknown at first.
    private DownloadProgress Snapshot(double now, bool finished)
    {
        var (since, from) = window.Count > 1 ? window.Peek() : (now, bytes);
        var flowing = double.IsNaN(firstByte) ? 0 : now - firstByte;
        var rate = finished ? bytes / Math.Max(now, 1e-3)
            : now - since >= 0.5 ? (bytes - from) / (now - since)
            : flowing > 0.2 ? bytes / flowing : 0;
        TimeSpan? left = rate > 0 && totalBytes >= bytes && !finished ? TimeSpan.FromSeconds((totalBytes - bytes) / rate) : null;
        return new DownloadProgress(model, file, bytes, totalBytes, rate, left, finished);
    }
}
