using System.IO.Compression;
using System.Text.Json.Nodes;
using Microsoft.ML.Data;

namespace Microsoft.ML.Lorenza;

/// <summary>
/// One zip file for a whole fitted pipeline (e.g. MapValueToKey → Lorenza → MapKeyToValue). The chain is cut
/// into parts at each LorenzaTransformer; every part stores its input schema through ML.NET's own
/// <c>mlContext.Model.Save</c> (ML.NET's transformers in it, or an empty chain before a LORENZA part), and each
/// LORENZA part adds its model file. Loading rebuilds the same chain of transformers in the same order.
/// </summary>
internal static class LorenzaModelFile
{
    private const string Format = "lorenza-mlnet-pipeline/1";
    private const string ManifestEntry = "lorenza-pipeline.json";

    public static void Save(ModelOperationsCatalog catalog, ITransformer model, DataViewSchema inputSchema, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputSchema);
        var parts = Split(Flatten(model).ToList());
        AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            var schema = inputSchema;
            var manifest = new JsonArray();
            for (var i = 0; i < parts.Count; i++)
            {
                var part = parts[i];
                var lorenza = part is [LorenzaTransformer];
                var mlnetPart = new TransformerChain<ITransformer>(lorenza ? [] : part.ToArray());
                using (var entry = zip.CreateEntry($"part{i}.mlnet.zip").Open())
                using (var buffer = new MemoryStream())
                {
                    catalog.Save(mlnetPart, schema, buffer); // ML.NET wants a seekable stream
                    buffer.Position = 0;
                    buffer.CopyTo(entry);
                }
                if (part is [LorenzaTransformer transformer])
                    using (var entry = zip.CreateEntry($"part{i}.lorenza.zip").Open())
                    using (var buffer = new MemoryStream())
                    {
                        transformer.Save(buffer);
                        buffer.Position = 0;
                        buffer.CopyTo(entry);
                    }
                manifest.Add(lorenza ? "lorenza" : "mlnet");
                foreach (var t in part) schema = t.GetOutputSchema(schema);
            }
            using var writer = new StreamWriter(zip.CreateEntry(ManifestEntry).Open());
            writer.Write(new JsonObject { ["format"] = Format, ["parts"] = manifest }.ToJsonString());
        });
    }

    public static ITransformer Load(ModelOperationsCatalog catalog, string path, out DataViewSchema inputSchema, string device)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No model file at {path}.", path);
        using var file = File.OpenRead(path);
        using var zip = LorenzaTransformer.OpenZip(file, path);
        var manifestEntry = zip.GetEntry(ManifestEntry) ?? throw new InvalidDataException(
            $"{path} was not written by mlContext.Model.SaveLorenzaModel (no {ManifestEntry}). A file from mlContext.Model.Save loads with mlContext.Model.Load; one from LorenzaTransformer.Save with LorenzaTransformer.Load.");
        JsonObject manifest;
        using (var reader = new StreamReader(manifestEntry.Open())) manifest = JsonNode.Parse(reader.ReadToEnd())!.AsObject();
        if (manifest["format"]?.GetValue<string>() != Format)
            throw new InvalidDataException($"{path} has format '{manifest["format"]}', expected '{Format}'.");

        var transformers = new List<ITransformer>();
        inputSchema = null!;
        var kinds = manifest["parts"]!.AsArray().Select(k => k!.GetValue<string>()).ToList();
        try
        {
            for (var i = 0; i < kinds.Count; i++)
            {
                var mlnetPart = catalog.Load(ReadEntry(zip, $"part{i}.mlnet.zip", path), out var partSchema);
                inputSchema ??= partSchema;
                transformers.AddRange(Flatten(mlnetPart));
                if (kinds[i] == "lorenza")
                    transformers.Add(LorenzaTransformer.Load(ReadEntry(zip, $"part{i}.lorenza.zip", path), $"{path} (part {i})", device));
            }
        }
        catch
        {
            foreach (var t in transformers) (t as IDisposable)?.Dispose();
            throw;
        }
        return new TransformerChain<ITransformer>(transformers.ToArray());
    }

    private static MemoryStream ReadEntry(ZipArchive zip, string name, string path)
    {
        var entry = zip.GetEntry(name) ?? throw new InvalidDataException($"{path} is incomplete: it has no {name}.");
        var buffer = new MemoryStream();
        using (var s = entry.Open()) s.CopyTo(buffer);
        buffer.Position = 0;
        return buffer;
    }

    private static IEnumerable<ITransformer> Flatten(ITransformer model) =>
        model is IEnumerable<ITransformer> chain ? chain.SelectMany(Flatten) : [model];

    // Runs of ML.NET transformers, each LorenzaTransformer on its own.
    private static List<List<ITransformer>> Split(List<ITransformer> transformers)
    {
        var parts = new List<List<ITransformer>>();
        foreach (var t in transformers)
        {
            if (t is LorenzaTransformer || parts.Count == 0 || parts[^1] is [LorenzaTransformer])
                parts.Add([t]);
            else
                parts[^1].Add(t);
        }
        if (parts.Count == 0) parts.Add([]);
        return parts;
    }
}
