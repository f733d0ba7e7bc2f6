using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Text;
using Microsoft.ML.Lorenza.Runtime;
using Microsoft.ML.Lorenza.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Inference;

/// <summary>
/// A trained classifier: a RoBERTa or BERT model, its tokenizer and label names. Saved as a folder that Hugging
/// Face can load too (config.json with id2label and model_type, model.safetensors, the tokenizer's files: vocab.json
/// and merges.txt for RoBERTa, vocab.txt and tokenizer_config.json for BERT) plus lorenza.json (labels, training
/// options, metrics).
/// </summary>
public sealed class TextClassifier : IDisposable
{
    public const string MetadataFile = "lorenza.json";

    public TextClassifier(SequenceClassifier model, ITextTokenizer tokenizer, int maxSequenceLength, Device device)
    {
        Model = model;
        Tokenizer = tokenizer;
        MaxSequenceLength = Math.Min(maxSequenceLength, model.Config.MaxSequenceLength);
        Device = device;
    }

    public SequenceClassifier Model { get; }
    public ITextTokenizer Tokenizer { get; }
    public int MaxSequenceLength { get; }
    public Device Device { get; }
    public IReadOnlyList<string> Labels => Model.Config.Labels;

    /// <summary>Extra facts saved in lorenza.json (training options, metrics).</summary>
    public JsonObject Metadata { get; set; } = new();

    /// <summary>The type the model computes in (null: float32) and why; set where the classifier was loaded or trained.</summary>
    public ResolvedPrecision Compute { get; private set; } = new(null, "float32");

    /// <summary>The precision asked for (Auto, None, ...): what <see cref="Save"/> records and <see cref="Load"/> restores.</summary>
    public ComputePrecision RequestedPrecision { get; private set; } = ComputePrecision.None;

    /// <summary>Computes in <paramref name="precision"/> from now on (None: float32, e.g. to compare with the float32 ONNX export).</summary>
    public void UsePrecision(ComputePrecision precision)
    {
        RequestedPrecision = precision;
        UsePrecision(ComputeOptions.Resolve(precision, Device));
    }

    /// <summary>Computes in a precision resolved before (one <see cref="Compute"/> returned, to restore it).</summary>
    public void UsePrecision(ResolvedPrecision precision)
    {
        Compute = precision;
        Model.ComputeType = precision.ComputeType;
    }

    /// <summary>Class probabilities (in label order) for each text (and optional second text).</summary>
    public float[][] PredictProbabilities(IReadOnlyList<string> texts, IReadOnlyList<string?>? pairs = null, int batchSize = 64)
    {
        var results = new float[texts.Count][];
        Model.eval();
        using var noGrad = torch.no_grad();
        for (var start = 0; start < texts.Count; start += batchSize)
        {
            var count = Math.Min(batchSize, texts.Count - start);
            using var scope = torch.NewDisposeScope();
            var batch = Tokenizer.EncodeBatch(texts.Skip(start).Take(count).ToList(), pairs?.Skip(start).Take(count).ToList(), MaxSequenceLength);
            var (ids, mask, types) = ToTensors(batch, Device);
            using var output = Model.forward(ids, mask, types);
            var probabilities = output.Logits.softmax(-1).ToArray<float>();
            var k = Labels.Count;
            for (var i = 0; i < count; i++) results[start + i] = probabilities.AsSpan(i * k, k).ToArray();
        }
        return results;
    }

    /// <summary>The most probable label of one text.</summary>
    public (string Label, float[] Probabilities) Predict(string text, string? pair = null)
    {
        var p = PredictProbabilities([text], pair is null ? null : [pair])[0];
        return (Labels[Array.IndexOf(p, p.Max())], p);
    }

    /// <summary>input_ids, attention_mask and token_type_ids as int64 [batch, sequence] tensors on <paramref name="device"/>.</summary>
    internal static (Tensor Ids, Tensor Mask, Tensor TokenTypes) ToTensors(EncodedBatch batch, Device device)
    {
        long[] shape = [batch.BatchSize, batch.SequenceLength];
        var ids = torch.tensor(batch.InputIds, shape, device: device);
        var mask = torch.tensor(batch.AttentionMask, shape, device: device);
        var types = torch.tensor(batch.TokenTypeIds, shape, device: device);
        return (ids, mask, types);
    }

    public void Save(string folder)
    {
        Directory.CreateDirectory(folder);
        ModelFolder.Save(Model, folder);
        Tokenizer.SaveTo(folder);
        var metadata = (JsonObject)Metadata.DeepClone();
        metadata["format"] = "lorenza-text-classifier/1";
        metadata["labels"] = new JsonArray(Labels.Select(l => (JsonNode?)l).ToArray());
        metadata["max_sequence_length"] = MaxSequenceLength;
        metadata["precision"] = RequestedPrecision.ToString().ToLowerInvariant();
        AtomicFile.WriteAllText(Path.Combine(folder, MetadataFile), metadata.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>
    /// Loads a folder written by <see cref="Save"/>, or any Hugging Face RoBERTa or BERT classifier folder with its
    /// tokenizer files (config.json's model_type decides; see <see cref="ModelFolder.LoadTokenizer"/>).
    /// </summary>
    /// <remarks>
    /// <paramref name="precision"/>: null (the default) is the precision the model was saved with (lorenza.json's "precision":
    /// what training or <see cref="UsePrecision(ComputePrecision)"/> asked for), else Auto, which predicts in bf16 where the
    /// device has it natively (README, "bf16 on the CPU"); None predicts in float32.
    /// </remarks>
    public static TextClassifier Load(string folder, Device? device = null, ComputePrecision? precision = null)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Model folder not found: {folder}");
        // lorenza.json first: it is small, and a damaged one is refused before the model is read.
        var metadataPath = Path.Combine(folder, MetadataFile);
        var metadata = File.Exists(metadataPath)
            ? JsonFile.ReadObject(metadataPath, $"restore it, or delete it to predict with {ModelFolder.ConfigFile}'s labels")
            : new JsonObject();
        var savedMaxLength = JsonFile.Int(metadata, "max_sequence_length", metadataPath, int.MaxValue);
        if (savedMaxLength < 1) throw new InvalidDataException($"{metadataPath}: \"max_sequence_length\" = {savedMaxLength} must be at least 1.");
        var savedPrecision = SavedPrecision(metadata, metadataPath);
        var tokenizer = ModelFolder.LoadTokenizer(folder);
        var (model, _) = ModelFolder.Load(folder);
        var target = device ?? CPU;
        model.to(target);
        var classifier = new TextClassifier(model, tokenizer, savedMaxLength, target) { Metadata = metadata };
        classifier.UsePrecision(precision ?? savedPrecision ?? ComputePrecision.Auto);
        return classifier;
    }

    private static ComputePrecision? SavedPrecision(JsonObject metadata, string path) =>
        JsonFile.String(metadata, "precision", path) is { } text && Enum.TryParse<ComputePrecision>(text, ignoreCase: true, out var saved) && Enum.IsDefined(saved) ? saved : null;

    public void Dispose() => Model.Dispose();
}
