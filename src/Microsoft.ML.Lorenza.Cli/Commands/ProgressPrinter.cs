using Microsoft.ML.Lorenza.Training;

namespace Microsoft.ML.Lorenza.Cli.Commands;

/// <summary>A live one-line progress bar on a terminal; plain log lines (every few seconds) when output is redirected.</summary>
internal sealed class ProgressPrinter : IProgress<TrainingProgress>
{
    private readonly bool interactive = !Console.IsOutputRedirected;
    private DateTime lastPrint = DateTime.MinValue;

    public void Report(TrainingProgress p)
    {
        if (p.Notice is { } notice)
        {
            Console.WriteLine(notice);
            return;
        }
        if (p.CompletedEpoch is not null) return; // the epochs are printed as a table when training ends
        var now = DateTime.UtcNow;
        var last = p.Step == p.TotalSteps;
        if (!last && now - lastPrint < TimeSpan.FromSeconds(interactive ? 0.2 : 5)) return;
        lastPrint = now;
        var text = $"epoch {p.Epoch}/{p.Epochs}  step {p.Step}/{p.TotalSteps}  loss {p.Loss:F4}  lr {p.LearningRate:E2}  {p.StepsPerSecond:F1} steps/s  ETA {(int)p.Eta.TotalMinutes}:{p.Eta.Seconds:00}";
        if (!interactive)
        {
            Console.WriteLine(text);
            return;
        }
        const int width = 30;
        var filled = (int)Math.Round(width * (double)p.Step / Math.Max(1, p.TotalSteps));
        Console.Write($"\r[{new string('#', filled)}{new string('-', width - filled)}] {text}   ");
        if (last) Console.WriteLine();
    }
}
