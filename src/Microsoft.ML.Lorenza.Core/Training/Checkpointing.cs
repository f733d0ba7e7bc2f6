using System.Security.Cryptography;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Text;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Training;

/// <summary>
/// A run's checkpoints (<see cref="TrainingCheckpoint"/> files): where the run starts (afresh, or where a checkpoint left
/// it), one every <see cref="LoopOptions.CheckpointEvery"/> steps, and one when the run is cancelled.
/// </summary>
internal sealed class Checkpointing
{
    private readonly string? path;
    private readonly int? every;
    private readonly SequenceClassifier model;
    private readonly IOptimizer optimizer;
    private readonly TrainingReport report;
    private readonly string fingerprint;

    public Checkpointing(TrainingOptions options, DataPlan data, SequenceClassifier model, IOptimizer optimizer, TrainingReport report)
    {
        path = options.Loop.CheckpointDirectory is { } dir ? Path.Combine(dir, TrainingCheckpoint.FileName) : null;
        every = options.Loop.CheckpointEvery;
        (this.model, this.optimizer, this.report) = (model, optimizer, report);
        fingerprint = Fingerprint(options, data.Encoded, data.Split.TrainLabels, data.Weights);
    }

    /// <summary>Where the run starts; resuming, the model, optimizer, generator and report are restored first.</summary>
    public TrainingPosition Start(bool resume) =>
        resume ? TrainingCheckpoint.Load(path!, model, optimizer, report, fingerprint) : new TrainingPosition(1, 0, 0);

    /// <summary>Writes a checkpoint when <paramref name="step"/> is a multiple of CheckpointEvery; the run continues at <paramref name="nextBatch"/>.</summary>
    public void AfterStep(int epoch, int nextBatch, int step, Dictionary<string, (double Sum, int Count)> diagnostics)
    {
        if (every is { } n && step % n == 0 && path is not null)
            TrainingCheckpoint.Save(path, model, optimizer, new TrainingPosition(epoch, nextBatch, step, diagnostics), report, fingerprint);
    }

    /// <summary>The exception that ends a cancelled run, saved first (with a checkpoint folder) so --resume continues it.</summary>
    public OperationCanceledException Interrupted(int epoch, int nextBatch, int step, Dictionary<string, (double Sum, int Count)> diagnostics, CancellationToken cancellation) =>
        TrainingCheckpoint.Interrupted(path, model, optimizer, new TrainingPosition(epoch, nextBatch, step, diagnostics), report, fingerprint, cancellation);

    // Identifies the data and options a checkpoint belongs to, so --resume refuses another run's checkpoint. The names and
    // their order are those of the options before they were grouped, so earlier checkpoints still resume.
    private static string Fingerprint(TrainingOptions options, EncodedText[] encoded, int[] labels, float[]? weights)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var (optimizer, loop) = (options.Optimizer, options.Loop);
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            Optimizer = optimizer.Algorithm.Name, OptimizerOptions = optimizer, optimizer.LearningRateSchedule, optimizer.WarmupFraction, loop.Epochs,
            loop.BatchSize, options.Data.MaxSequenceLength, loop.MaxSteps, loop.Seed, Preset = (options.Model.Preset ?? ModelPreset.Tiny).Name, // as before presets were optional: old checkpoints still match
            PretrainedModelPath = options.Model.Pretrained, options.Data.Labels,
        }, TrainingCheckpoint.Json)));
        foreach (var row in encoded)
        {
            hash.AppendData(MemoryMarshal.AsBytes(row.Ids.AsSpan()));
            // Token types only where there are some (BERT pairs), so RoBERTa checkpoints keep their fingerprints.
            if (row.TypeIds.Any(t => t != 0)) hash.AppendData(MemoryMarshal.AsBytes(row.TypeIds.AsSpan()));
        }
        hash.AppendData(MemoryMarshal.AsBytes(labels.AsSpan()));
        // The rows' loss weights (class and example weights) only where there are some, so unweighted checkpoints keep theirs.
        if (weights is not null) hash.AppendData(MemoryMarshal.AsBytes(weights.AsSpan()));
        return Convert.ToHexString(hash.GetHashAndReset());
    }
}
