using Microsoft.ML.Lorenza.Pretrained;

namespace Microsoft.ML.Lorenza.Cli.Commands;

/// <summary>
/// A download's progress on a terminal's stderr, on one line redrawn in place: a bar, the percentage, megabytes, the
/// rate and the time left. Log lines printed meanwhile clear the bar first. (Without a terminal the engine writes plain
/// lines at every tenth of the download instead.)
/// </summary>
internal sealed class DownloadProgressBar : IProgress<DownloadProgress>
{
    private static readonly object Gate = new();
    private static bool drawn;

    public void Report(DownloadProgress p)
    {
        lock (Gate)
        {
            const int width = 30;
            var filled = p.TotalBytes > 0 ? (int)Math.Min(width, width * p.Bytes / p.TotalBytes) : width;
            var line = $"[{new string('#', filled)}{new string('-', width - filled)}] {p.Describe()}  {p.File}";
            Console.Error.Write($"\r{line,-110}");
            drawn = !p.Finished;
            if (p.Finished) Console.Error.WriteLine();
        }
    }

    /// <summary>Writes a log line on stderr, below a bar being drawn.</summary>
    public static void Log(string line)
    {
        lock (Gate)
        {
            if (drawn) Console.Error.WriteLine();
            drawn = false;
            Console.Error.WriteLine(line);
        }
    }
}
