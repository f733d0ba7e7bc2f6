using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Training;

/// <summary>Where training stands: the next batch to run is batch <see cref="BatchInEpoch"/> of epoch <see cref="Epoch"/>.</summary>
public sealed record TrainingPosition(int Epoch, int BatchInEpoch, int Step)
{
    /// <summary>The current epoch's optimizer-diagnostic sums and counts so far, so a resumed epoch reports what an uninterrupted one does.</summary>
    public Dictionary<string, double[]>? EpochDiagnostics { get; init; }

    internal TrainingPosition(int epoch, int batchInEpoch, int step, Dictionary<string, (double Sum, int Count)> diagnostics) : this(epoch, batchInEpoch, step) =>
        EpochDiagnostics = diagnostics.ToDictionary(kv => kv.Key, kv => new[] { kv.Value.Sum, kv.Value.Count });

    internal Dictionary<string, (double Sum, int Count)> RestoreDiagnostics() =>
        EpochDiagnostics?.ToDictionary(kv => kv.Key, kv => (kv.Value[0], (int)kv.Value[1])) ?? new();
}

/// <summary>
/// Everything needed to continue a run bit-identically, in ONE safetensors file written atomically
/// (temp file + rename: a failed write — disk full, permission denied — leaves the previous checkpoint
/// intact): the model ("model.*"), the optimizer's state ("optimizer.*": moments, LORENZA's bases, step
/// counters, probe generator), the default CPU generator that drives dropout on the CPU ("rng.cpu"; on CUDA each step
/// reseeds dropout from the seed and the step, <see cref="CudaStepSeed"/>), the data
/// position and the report so far (metadata). The data order itself is recomputed: it is a pure
/// function of the seed and the epoch (<see cref="DataPlan.BatchPlan"/>).
/// </summary>
public static class TrainingCheckpoint
{
    public const string FileName = "checkpoint.safetensors";
    internal static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static void Save(string path, SequenceClassifier model, IOptimizer optimizer, TrainingPosition position, TrainingReport report, string fingerprint)
    {
        var tensors = new Dictionary<string, Tensor>();
        try
        {
            foreach (var (name, p) in model.named_parameters()) tensors["model." + name] = p.detach().cpu().DetachFromDisposeScope();
            optimizer.SaveState(tensors);
            tensors["rng.cpu"] = torch.random.get_rng_state().DetachFromDisposeScope();
            tensors["report.step_losses"] = torch.tensor(report.StepLosses.ToArray()).DetachFromDisposeScope();
            var metadata = new Dictionary<string, string>
            {
                ["lorenza.position"] = JsonSerializer.Serialize(position),
                ["lorenza.epochs"] = JsonSerializer.Serialize(report.Epochs, Json),
                ["lorenza.fingerprint"] = fingerprint,
            };
            metadata[DigestKey] = Digest(tensors, metadata);
            SafeTensors.Save(path, tensors, metadata);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>
    /// The exception that ends a cancelled run; with a checkpoint path the run is saved first (at the batch not yet
    /// run), so --resume continues it, and the message says so.
    /// </summary>
    internal static OperationCanceledException Interrupted(string? path, SequenceClassifier model, IOptimizer optimizer, TrainingPosition position,
        TrainingReport report, string fingerprint, CancellationToken cancellation)
    {
        if (path is null) return new OperationCanceledException($"Training was cancelled at step {position.Step}.", cancellation);
        Save(path, model, optimizer, position, report, fingerprint);
        return new OperationCanceledException($"Training was cancelled at step {position.Step}; checkpoint saved to {path}.", cancellation);
    }

    private const string DigestKey = "lorenza.sha256";

    /// <summary>SHA-256 over every tensor (name, dtype, shape, bytes) and every metadata value but the digest itself, in name order.</summary>
    private static string Digest(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Text(string s) { hash.AppendData(Encoding.UTF8.GetBytes(s)); hash.AppendData([0]); }
        foreach (var name in tensors.Keys.Order(StringComparer.Ordinal))
        {
            using var scope = NewDisposeScope();
            var cpu = tensors[name].detach().cpu().contiguous();
            Text(name);
            Text($"{cpu.dtype} {Shapes.Format(cpu.shape)}");
            if (cpu.numel() > 0) hash.AppendData(cpu.bytes);
        }
        foreach (var key in metadata.Keys.Where(k => k.StartsWith("lorenza.", StringComparison.Ordinal) && k != DigestKey).Order(StringComparer.Ordinal))
        {
            Text(key);
            Text(metadata[key]);
        }
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    /// <summary>Restores model, optimizer, generator and report; returns where to continue.</summary>
    public static TrainingPosition Load(string path, SequenceClassifier model, IOptimizer optimizer, TrainingReport report, string fingerprint)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No checkpoint to resume from at {path}.", path);
        var metadata = SafeTensors.ReadMetadata(path);
        if (!metadata.TryGetValue("lorenza.position", out var positionJson))
            throw new InvalidDataException($"{path} is not a training checkpoint written by lorenza.");
        if (metadata.GetValueOrDefault("lorenza.fingerprint") != fingerprint)
            throw new InvalidDataException($"{path} was written by a run with different data or options; resume with the same command, or start afresh without --resume.");
        var tensors = SafeTensors.Load(path);
        try
        {
            // Every tensor and metadata value is covered by the digest: a damaged checkpoint is refused here, whole,
            // rather than failing somewhere in the optimizer's state or, worse, resuming from wrong numbers.
            if (metadata.GetValueOrDefault(DigestKey) != Digest(tensors, metadata))
                throw new InvalidDataException($"{path} is damaged (its contents do not match the digest written with it) or was written by an older lorenza; start afresh without --resume.");
            var parameters = model.named_parameters().ToList();
            foreach (var (name, p) in parameters)
                if (!tensors.TryGetValue("model." + name, out var saved) || !saved.shape.SequenceEqual(p.shape))
                    throw new InvalidDataException($"{path} does not hold model.{name} of shape {Shapes.Format(p.shape)}: it was written for another model; start afresh without --resume.");
            using (torch.no_grad())
                foreach (var (name, p) in parameters)
                {
                    using var value = tensors["model." + name].to(p.device);
                    p.copy_(value);
                }
            optimizer.LoadState(tensors);
            torch.random.set_rng_state(tensors["rng.cpu"]);
            report.StepLosses.Clear();
            report.StepLosses.AddRange(tensors["report.step_losses"].ToArray<double>());
            report.Epochs.Clear();
            report.Epochs.AddRange(JsonSerializer.Deserialize<List<EpochResult>>(metadata["lorenza.epochs"], Json) ?? []);
            return JsonSerializer.Deserialize<TrainingPosition>(positionJson)!;
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }
}
