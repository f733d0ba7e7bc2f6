using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.Data;
using Microsoft.ML.Lorenza.Onnx;
using Microsoft.ML.Lorenza.Training;
using Microsoft.ML.Lorenza.Inference;

namespace Microsoft.ML.Lorenza;

/// <summary>
/// A fine-tuned RoBERTa or BERT classifier as an ML.NET transformer: adds <c>Score</c> (class probabilities in key
/// order) and <c>PredictedLabel</c> (the label's key type) to any data with the text column(s). Lazy and
/// row-to-row, so <c>Transform</c>, <c>CreatePredictionEngine</c> and <c>Evaluate</c> all work.
/// <para>
/// Saving: ML.NET lets only its own assemblies write through <see cref="ModelSaveContext"/>, so
/// <c>mlContext.Model.Save</c> cannot store this transformer. Use <see cref="Save(string)"/> /
/// <see cref="Load(string, string)"/> for this transformer alone, or
/// <c>mlContext.Model.SaveLorenzaModel</c> / <c>LoadLorenzaModel</c> for a whole pipeline.
/// ONNX: <see cref="ExportToOnnx(Stream, bool)"/> (ML.NET's ConvertToOnnx cannot see third-party transformers).
/// </para>
/// Dispose it to free the model's native memory at once (otherwise the finalizers do, later).
/// </summary>
public sealed class LorenzaTransformer : ITransformer, IDisposable
{
    private const string Format = "lorenza-mlnet-transformer/1";
    private const string ColumnsEntry = "mlnet.json";
    private const string ModelFolder = "model/";
    private readonly LabelKeys keys;
    private bool disposed;

    internal LorenzaTransformer(TextClassifier model, ColumnNames columns, LabelKeys keys, TrainingReport? report)
    {
        Model = model;
        Columns = columns;
        this.keys = keys;
        TrainingReport = report;
    }

    /// <summary>The engine's classifier (RoBERTa or BERT model, tokenizer, labels): use it directly for batched prediction.</summary>
    public TextClassifier Model { get; }
    /// <summary>The column names this transformer reads and writes.</summary>
    public ColumnNames Columns { get; }
    /// <summary>Class names in key order (key 1 first): the text of the label's key values.</summary>
    public IReadOnlyList<string> Labels => keys.Names;
    /// <summary>Per-epoch losses, metrics and optimizer diagnostics of the training run; null after <see cref="Load(string, string)"/>.</summary>
    public TrainingReport? TrainingReport { get; }

    public bool IsRowToRowMapper => true;

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        TextColumns(inputSchema);
        return OutputColumns.Schema(inputSchema, Columns.Score, Columns.PredictedLabel, keys);
    }

    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new PredictionDataView(this, input);
    }

    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return new PredictionRowMapper(this, inputSchema);
    }

    void ICanSaveModel.Save(ModelSaveContext ctx) => throw new NotSupportedException(
        "mlContext.Model.Save cannot store a LorenzaTransformer: ML.NET lets only its own components write through ModelSaveContext. " +
        "Save the whole pipeline with mlContext.Model.SaveLorenzaModel(model, inputSchema, path) and load it with " +
        "mlContext.Model.LoadLorenzaModel(path, out schema), or this transformer alone with transformer.Save(path) / LorenzaTransformer.Load(path).");

    internal (DataViewSchema.Column Sentence1, DataViewSchema.Column? Sentence2) TextColumns(DataViewSchema schema)
    {
        var s1 = InputColumns.Text(schema, Columns.Sentence1, nameof(Columns.Sentence1), "input data");
        var s2 = Columns.Sentence2 is { } name ? InputColumns.Text(schema, name, nameof(Columns.Sentence2), "input data") : (DataViewSchema.Column?)null;
        return (s1, s2);
    }

    internal float[] Predict(string text, string? pair)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        return Model.PredictProbabilities([text], pair is null ? null : [pair])[0];
    }

    internal float[][] PredictBatch(IReadOnlyList<string> texts, IReadOnlyList<string?>? pairs)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        return Model.PredictProbabilities(texts, pairs, texts.Count);
    }

    /// <summary>Writes this transformer (model, tokenizer, labels, column names) to one zip file, atomically.</summary>
    public void Save(string path)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        AtomicFile.Write(path, Save);
    }

    /// <summary>Loads a file written by <see cref="Save(string)"/>. <paramref name="device"/>: "auto", "cpu", "cuda" or "cuda:N".</summary>
    public static LorenzaTransformer Load(string path, string device = "auto")
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No LORENZA model file at {path}.", path);
        using var stream = File.OpenRead(path);
        return Load(stream, path, device);
    }

    internal void Save(Stream stream)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var staging = Directory.CreateTempSubdirectory("lorenza-save-");
        try
        {
            Model.Save(staging.FullName);
            var header = new JsonObject
            {
                ["format"] = Format,
                ["columns"] = JsonSerializer.SerializeToNode(Columns),
                ["label_keys"] = keys.ToJson(),
            };
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            using (var writer = new StreamWriter(zip.CreateEntry(ColumnsEntry).Open()))
                writer.Write(header.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            foreach (var file in Directory.GetFiles(staging.FullName))
                zip.CreateEntryFromFile(file, ModelFolder + Path.GetFileName(file), CompressionLevel.Fastest);
        }
        finally
        {
            staging.Delete(recursive: true);
        }
    }

    internal static LorenzaTransformer Load(Stream stream, string source, string device)
    {
        var staging = Directory.CreateTempSubdirectory("lorenza-load-");
        try
        {
            JsonObject header;
            using (var zip = OpenZip(stream, source))
            {
                var entry = zip.GetEntry(ColumnsEntry) ?? throw new InvalidDataException(
                    $"{source} is not a LorenzaTransformer file (no {ColumnsEntry}); a whole pipeline saved with SaveLorenzaModel loads with mlContext.Model.LoadLorenzaModel.");
                using (var reader = new StreamReader(entry.Open())) header = JsonNode.Parse(reader.ReadToEnd())!.AsObject();
                if (header["format"]?.GetValue<string>() != Format)
                    throw new InvalidDataException($"{source} has format '{header["format"]}', expected '{Format}'.");
                foreach (var file in zip.Entries.Where(e => e.FullName.StartsWith(ModelFolder, StringComparison.Ordinal) && e.Name.Length > 0))
                    file.ExtractToFile(StagedPath(staging.FullName, file.FullName[ModelFolder.Length..], source));
            }
            var columns = header["columns"].Deserialize<ColumnNames>() ?? throw new InvalidDataException($"{source} has no column names.");
            var keys = LabelKeys.FromJson(header["label_keys"]!.AsObject());
            var model = TextClassifier.Load(staging.FullName, Runtime.ComputeDevice.Parse(device).Resolve());
            return new LorenzaTransformer(model, columns, keys, report: null);
        }
        finally
        {
            staging.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Where an entry of the model folder is extracted: a plain file name only, once. A name with a folder, "..", '\' or
    /// ':' would be written elsewhere (a zip made on Unix may name "..\x", one name on Linux but a way out on Windows).
    /// </summary>
    private static string StagedPath(string staging, string name, string source)
    {
        if (name is "." or ".." || name.IndexOfAny(['/', '\\', ':']) >= 0 || name.Any(char.IsControl))
            throw new InvalidDataException($"{source} has the entry '{ModelFolder}{new string(name.Take(200).Select(c => char.IsControl(c) ? '?' : c).ToArray())}', " +
                                           "which would be written outside the folder it is read into; refusing it (the file is damaged or was not written by LORENZA).");
        var path = Path.Combine(staging, name);
        return File.Exists(path) ? throw new InvalidDataException($"{source} has the entry '{ModelFolder}{name}' twice; refusing it (the file is damaged).") : path;
    }

    internal static ZipArchive OpenZip(Stream stream, string source)
    {
        try
        {
            return new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{source} is not a model file written by LORENZA (not a zip archive: {e.Message}).", e);
        }
    }

    /// <summary>
    /// Writes the model as ONNX (opset 17): inputs input_ids and attention_mask (int64, batch × sequence), and
    /// token_type_ids for a BERT model; outputs logits and probabilities in key order; class names in the model's metadata.
    /// </summary>
    public void ExportToOnnx(Stream stream, bool float16Weights = false)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ClassifierOnnxExporter.Export(Model.Model, stream, new OnnxExportOptions { Float16Weights = float16Weights });
    }

    /// <summary>
    /// Writes <paramref name="onnxPath"/> plus what a consumer needs beside it: labels.json and the tokenizer's files
    /// (vocab.json and merges.txt for RoBERTa; vocab.txt and tokenizer_config.json for BERT).
    /// </summary>
    public void ExportToOnnx(string onnxPath, bool float16Weights = false)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ClassifierOnnxExporter.ExportFolder(Model.Model, onnxPath, Model.Tokenizer, new OnnxExportOptions { Float16Weights = float16Weights });
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        Model.Dispose();
    }
}

/// <summary>The columns a <see cref="LorenzaTransformer"/> reads (Sentence1, optional Sentence2) and writes (Score, PredictedLabel).</summary>
public sealed record ColumnNames(string Sentence1, string? Sentence2, string Score, string PredictedLabel);
