using System.Text.Json.Nodes;
using System.Text;
using System.Collections;
using Microsoft.ML.Lorenza.Runtime;
using Microsoft.ML.Lorenza.Text;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Modeling;

/// <summary>What loading a checkpoint did besides copying tensors (for logs and reports).</summary>
public sealed record LoadReport(string WeightsFile, IReadOnlyList<string> Ignored, IReadOnlyList<string> FreshlyInitialized);

/// <summary>
/// Hugging Face model folders: config.json plus model.safetensors (preferred) or pytorch_model.bin, for every
/// architecture config.json's model_type names (<see cref="ModelFamilies.SupportedModelTypes"/>; roberta when absent). Loading validates every name
/// and shape and reports all problems in one exception.
/// </summary>
public static class ModelFolder
{
    public const string ConfigFile = "config.json";
    public const string SafeTensorsFile = "model.safetensors";
    public const string PyTorchFile = "pytorch_model.bin";
    /// <summary>A sharded safetensors checkpoint's index: {"weight_map": {tensor name: shard file}}.</summary>
    public const string SafeTensorsIndexFile = "model.safetensors.index.json";
    /// <summary>A sharded pytorch_model.bin checkpoint's index.</summary>
    public const string PyTorchIndexFile = "pytorch_model.bin.index.json";

    /// <summary>
    /// Loads a folder. When the checkpoint has no classifier head (a pretrained encoder such as roberta-base or a
    /// bare BertModel), the head is initialized from <paramref name="seed"/> and reported as freshly initialized.
    /// </summary>
    public static (SequenceClassifier Model, LoadReport Report) Load(string folder, IReadOnlyList<string>? labels = null, ulong seed = 0)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Model folder not found: {folder}");
        var config = TransformerConfig.Load(Path.Combine(folder, ConfigFile));
        // The weights' names and shapes are checked against config.json before a model of its sizes is allocated:
        // safetensors from their headers, pytorch_model.bin (pickled) by loading it, once.
        var files = WeightFiles(folder);
        var source = WeightsSource(files);
        var loaded = files.All(f => f.EndsWith(".safetensors", StringComparison.Ordinal)) ? null : ReadTensors(files);
        try
        {
            config.CheckAgainstWeights(loaded?.ToDictionary(kv => kv.Key, kv => kv.Value.shape)
                                       ?? files.SelectMany(SafeTensors.ReadHeader).DistinctBy(e => e.Name).ToDictionary(e => e.Name, e => e.Shape), source);
            // New labels: a head saved for another class count cannot be reused; it is initialized afresh and reported.
            var newHead = labels is not null && labels.Count != config.Labels.Count;
            if (labels is not null) config.Labels = [.. labels];
            var model = SequenceClassifier.Create(config, seed);
            try
            {
                var tensors = loaded ?? ReadTensors(files);
                try
                {
                    return (model, LoadStateDict(model, tensors, source, newHead));
                }
                finally
                {
                    if (loaded is null) foreach (var t in tensors.Values) t.Dispose();
                }
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }
        finally
        {
            if (loaded is not null) foreach (var t in loaded.Values) t.Dispose();
        }
    }

    /// <summary>
    /// The tokenizer of a model folder, chosen by config.json's model_type (<see cref="ModelFamilies"/>): its slow files —
    /// vocab.json + merges.txt (roberta, or no model_type), sentencepiece.bpe.model (xlm-roberta), vocab.txt
    /// (+ tokenizer_config.json: bert, distilbert, electra) — or, when those are absent, tokenizer.json. Without a
    /// config.json (the files an ONNX export writes beside model.onnx) the tokenizer files present decide.
    /// </summary>
    public static ITextTokenizer LoadTokenizer(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Model folder not found: {folder}");
        var configPath = Path.Combine(folder, ConfigFile);
        return File.Exists(configPath)
            ? TokenizerFiles.Load(folder, ModelFamilies.Require(TransformerConfig.ModelTypeOf(configPath), configPath))
            : TokenizerFiles.Load(folder, null);
    }

    /// <summary>
    /// The checkpoint files of a folder, in the order transformers prefers them: model.safetensors, else the shards
    /// model.safetensors.index.json names, else pytorch_model.bin, else the shards of pytorch_model.bin.index.json.
    /// </summary>
    public static IReadOnlyList<string> WeightFiles(string folder)
    {
        foreach (var (single, index) in new[] { (SafeTensorsFile, SafeTensorsIndexFile), (PyTorchFile, PyTorchIndexFile) })
        {
            if (File.Exists(Path.Combine(folder, single))) return [Path.Combine(folder, single)];
            var indexPath = Path.Combine(folder, index);
            if (File.Exists(indexPath)) return ShardsOf(indexPath, indexPath).Select(shard => Path.Combine(folder, shard)).ToList();
        }
        throw new FileNotFoundException($"{folder} has neither {SafeTensorsFile} nor {PyTorchFile} (nor the index of sharded weights, {SafeTensorsIndexFile} or {PyTorchIndexFile}).", Path.Combine(folder, SafeTensorsFile));
    }

    /// <summary>
    /// The shard files a checkpoint index names (its weight_map's values, each once, in order), relative to its folder;
    /// with <paramref name="checkFiles"/>, a name that would leave the folder is refused, and so is a missing shard
    /// (without, the caller checks the names: the hub source before anything is downloaded).
    /// </summary>
    public static IReadOnlyList<string> ShardsOf(string indexPath, string description, bool checkFiles = true)
    {
        JsonNode? weightMap;
        try { weightMap = JsonNode.Parse(File.ReadAllText(indexPath))?["weight_map"]; }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
        {
            throw new InvalidDataException($"{description} is not valid JSON: {JsonFile.Reason(e)}", e);
        }
        if (weightMap is not JsonObject map || map.Count == 0)
            throw new InvalidDataException($"{description} has no weight_map naming the shards.");
        var folder = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;
        var shards = new List<string>();
        foreach (var (_, value) in map)
        {
            var shard = value?.GetValueKind() == System.Text.Json.JsonValueKind.String ? value.GetValue<string>() : throw new InvalidDataException($"{description}: weight_map values must be file names.");
            if (shards.Contains(shard)) continue;
            if (!checkFiles)
            {
                shards.Add(shard);
                continue;
            }
            var full = Path.GetFullPath(Path.Combine(folder, shard));
            if (shard.Length == 0 || Path.IsPathRooted(shard) || shard.Split('/', '\\').Any(p => p is ".." or "") || !full.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw new InvalidDataException($"{description} names the shard '{shard}', which is outside its folder; refusing it.");
            if (!File.Exists(full)) throw new FileNotFoundException($"{description} names the shard {shard}, which is not in {folder}.", full);
            shards.Add(shard);
        }
        return shards;
    }

    /// <summary>Copies the folder's weights (one file or the shards of an index) into <paramref name="model"/>, validating names and shapes.</summary>
    public static LoadReport LoadWeights(SequenceClassifier model, string folder, bool reinitializeMismatchedHead = false)
    {
        var files = WeightFiles(folder);
        var tensors = ReadTensors(files);
        try
        {
            return LoadStateDict(model, tensors, WeightsSource(files), reinitializeMismatchedHead);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>The tensors of one weights file or of every shard (a name in two shards is taken once, from the first).</summary>
    private static Dictionary<string, Tensor> ReadTensors(IReadOnlyList<string> files)
    {
        var tensors = new Dictionary<string, Tensor>();
        try
        {
            foreach (var file in files)
            {
                var part = file.EndsWith(".safetensors", StringComparison.Ordinal) ? SafeTensors.Load(file) : LoadPickledStateDict(file);
                foreach (var (name, tensor) in part)
                    if (!tensors.TryAdd(name, tensor)) tensor.Dispose();
            }
            return tensors;
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
    }

    /// <summary>What the messages call the weights: the one file, or "{folder}'s N shards".</summary>
    private static string WeightsSource(IReadOnlyList<string> files) =>
        files.Count == 1 ? files[0] : $"{Path.GetDirectoryName(files[0])}'s {files.Count} shards";

    /// <summary>
    /// Copies tensors by name; one exception lists every missing, unexpected and mis-shaped tensor. With
    /// reinitializeMismatchedHead, head tensors ("classifier.…") whose shape differs from the model's are skipped
    /// and reported as freshly initialized instead (fine-tuning a classifier for another set of labels).
    /// </summary>
    public static LoadReport LoadStateDict(SequenceClassifier model, IReadOnlyDictionary<string, Tensor> tensors, string source,
        bool reinitializeMismatchedHead = false)
    {
        // A bare encoder checkpoint (RobertaModel, BertModel) names "embeddings.…"; the classifier's encoder is "roberta.…"/"bert.…".
        var prefix = model.BaseModelPrefix + ".";
        var bare = !tensors.Keys.Any(k => k.StartsWith(prefix, StringComparison.Ordinal));
        var named = tensors.ToDictionary(kv => ModernName(bare && !kv.Key.StartsWith("classifier.", StringComparison.Ordinal) ? prefix + kv.Key : kv.Key), kv => kv.Value);

        var parameters = model.state_dict();
        bool InHead(string key) => model.HeadPrefixes.Any(p => key.StartsWith(p, StringComparison.Ordinal));
        if (reinitializeMismatchedHead)
            foreach (var key in named.Keys.Where(k => k.StartsWith("classifier.", StringComparison.Ordinal)
                         && parameters.TryGetValue(k, out var p) && !named[k].shape.SequenceEqual(p.shape)).ToList())
                named.Remove(key);
        var ignored = named.Keys.Where(k => !parameters.ContainsKey(k) && model.IgnorableCheckpointPrefixes.Any(p => k.StartsWith(p, StringComparison.Ordinal))).ToList();
        var unexpected = named.Keys.Where(k => !parameters.ContainsKey(k) && !ignored.Contains(k)).ToList();
        var missing = parameters.Keys.Where(k => !named.ContainsKey(k)).ToList();
        var headOnlyMissing = missing.Count > 0 && missing.All(InHead);
        var misShaped = parameters.Where(p => named.TryGetValue(p.Key, out var t) && !t.shape.SequenceEqual(p.Value.shape))
            .Select(p => $"{p.Key}: checkpoint {Shapes.Format(named[p.Key].shape)}, model {Shapes.Format(p.Value.shape)}").ToList();
        if (unexpected.Count > 0 || misShaped.Count > 0 || (missing.Count > 0 && !headOnlyMissing))
        {
            var message = new StringBuilder($"{source} does not match the model described by its config.json:");
            if (missing.Count > 0 && !headOnlyMissing) message.Append($"\n  missing ({missing.Count}): {string.Join(", ", missing)}");
            if (unexpected.Count > 0) message.Append($"\n  unexpected ({unexpected.Count}): {string.Join(", ", unexpected)}");
            if (misShaped.Count > 0) message.Append($"\n  mis-shaped ({misShaped.Count}): {string.Join("; ", misShaped)}");
            throw new InvalidDataException(message.ToString());
        }

        using (torch.no_grad())
        {
            foreach (var (name, parameter) in parameters)
            {
                if (!named.TryGetValue(name, out var source_)) continue;
                using var converted = source_.to(parameter.dtype);
                parameter.copy_(converted);
            }
        }
        return new LoadReport(source, ignored, headOnlyMissing ? missing : []);
    }

    // Early BERT checkpoints (TensorFlow conversions, e.g. bert-base-uncased's pytorch_model.bin) name LayerNorm's
    // parameters gamma and beta; transformers renames them on load, and so do we.
    private static string ModernName(string key) =>
        key.Contains("LayerNorm.", StringComparison.Ordinal) && key.EndsWith(".gamma", StringComparison.Ordinal) ? key[..^".gamma".Length] + ".weight"
        : key.Contains("LayerNorm.", StringComparison.Ordinal) && key.EndsWith(".beta", StringComparison.Ordinal) ? key[..^".beta".Length] + ".bias"
        : key;

    /// <summary>
    /// A state dict written by PyTorch's torch.save (e.g. Hugging Face's pytorch_model.bin), through TorchSharp.PyBridge,
    /// after <see cref="PickleAllowList"/> has read the pickle's opcodes: a pickle that names anything but tensors and
    /// OrderedDicts (os.system, builtins.eval, …) is refused before it is unpickled, and so is torch.save's legacy format,
    /// and one whose storages or tensors claim more than the archive holds (<see cref="StorageBounds"/>).
    /// </summary>
    public static Dictionary<string, Tensor> LoadPickledStateDict(string path)
    {
        TorchRuntime.EnsureLoaded();
        Hashtable table;
        // One open file for the check and the unpickling: what was checked is what is read.
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        PickleAllowList.CheckFile(file, path);
        try
        {
            table = PyTorchUnpickler.UnpickleStateDict(file, leaveOpen: true);
        }
        // A read past the end of the file is damage (an entry's size or offset in the zip), not an I/O error.
        catch (Exception e) when (e is not (IOException or UnauthorizedAccessException) || e is EndOfStreamException)
        {
            throw new InvalidDataException($"{path} is not a readable torch.save state dict ({e.Message.Split('\n')[0]}); save the model as model.safetensors instead.", e);
        }
        var result = new Dictionary<string, Tensor>();
        foreach (DictionaryEntry entry in table)
            if (entry.Value is Tensor tensor) result[(string)entry.Key] = tensor.DetachFromDisposeScope();
        return result;
    }

    /// <summary>Writes config.json and model.safetensors (HF names and keys): loadable here and by transformers.</summary>
    public static void Save(SequenceClassifier model, string folder)
    {
        Directory.CreateDirectory(folder);
        model.Config.Save(Path.Combine(folder, ConfigFile));
        SafeTensors.Save(Path.Combine(folder, SafeTensorsFile), model.state_dict());
    }
}
