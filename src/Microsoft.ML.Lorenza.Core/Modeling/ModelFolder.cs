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

    /// <summary>
    /// Loads a folder. When the checkpoint has no classifier head (a pretrained encoder such as roberta-base or a
    /// bare BertModel), the head is initialized from <paramref name="seed"/> and reported as freshly initialized.
    /// </summary>
    public static (SequenceClassifier Model, LoadReport Report) Load(string folder, IReadOnlyList<string>? labels = null, ulong seed = 0)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Model folder not found: {folder}");
        var config = TransformerConfig.Load(Path.Combine(folder, ConfigFile));
        // The weights' names and shapes are checked against config.json before a model of its sizes is allocated.
        var file = WeightsFile(folder);
        var pickled = file.EndsWith(PyTorchFile, StringComparison.Ordinal) ? LoadPickledStateDict(file) : null;
        try
        {
            config.CheckAgainstWeights(pickled?.ToDictionary(kv => kv.Key, kv => kv.Value.shape)
                                       ?? SafeTensors.ReadHeader(file).ToDictionary(e => e.Name, e => e.Shape), file);
            // New labels: a head saved for another class count cannot be reused; it is initialized afresh and reported.
            var newHead = labels is not null && labels.Count != config.Labels.Count;
            if (labels is not null) config.Labels = [.. labels];
            var model = SequenceClassifier.Create(config, seed);
            try
            {
                var tensors = pickled ?? SafeTensors.Load(file);
                try
                {
                    return (model, LoadStateDict(model, tensors, file, newHead));
                }
                finally
                {
                    if (pickled is null) foreach (var t in tensors.Values) t.Dispose();
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
            if (pickled is not null) foreach (var t in pickled.Values) t.Dispose();
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

    /// <summary>Copies the folder's weights into <paramref name="model"/>, validating names and shapes.</summary>
    public static LoadReport LoadWeights(SequenceClassifier model, string folder, bool reinitializeMismatchedHead = false)
    {
        var file = WeightsFile(folder);
        var tensors = file.EndsWith(SafeTensorsFile, StringComparison.Ordinal) ? SafeTensors.Load(file) : LoadPickledStateDict(file);
        try
        {
            return LoadStateDict(model, tensors, file, reinitializeMismatchedHead);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>model.safetensors (preferred) or pytorch_model.bin of the folder.</summary>
    private static string WeightsFile(string folder)
    {
        var safetensors = Path.Combine(folder, SafeTensorsFile);
        var bin = Path.Combine(folder, PyTorchFile);
        return File.Exists(safetensors) ? safetensors : File.Exists(bin) ? bin
            : throw new FileNotFoundException($"{folder} has neither {SafeTensorsFile} nor {PyTorchFile}.", safetensors);
    }

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

    /// <summary>A state dict written by PyTorch's torch.save (e.g. Hugging Face's pytorch_model.bin), through TorchSharp.PyBridge.</summary>
    public static Dictionary<string, Tensor> LoadPickledStateDict(string path)
    {
        TorchRuntime.EnsureLoaded();
        Hashtable table;
        try
        {
            table = PyTorchUnpickler.UnpickleStateDict(path);
        }
        catch (Exception e) when (e is not (IOException or UnauthorizedAccessException))
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
