using System.Diagnostics;

namespace Microsoft.ML.Lorenza.Training;

/// <summary>Steps per second and the time left, counted from the step this process started at (a resumed run's too).</summary>
internal sealed class TrainingClock(int firstStep, int totalSteps, int epochs)
{
    private readonly Stopwatch watch = Stopwatch.StartNew();

    public TimeSpan Elapsed => watch.Elapsed;

    /// <summary>The progress report at <paramref name="step"/>.</summary>
    public TrainingProgress Progress(int epoch, int step, double loss, double learningRate)
    {
        var rate = (step - firstStep) / watch.Elapsed.TotalSeconds;
        return new TrainingProgress(epoch, epochs, step, totalSteps, loss, rate, TimeSpan.FromSeconds((totalSteps - step) / Math.Max(rate, 1e-9)), learningRate);
    }
}
