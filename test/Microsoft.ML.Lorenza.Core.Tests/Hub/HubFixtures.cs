using System.Text;
using System.Text.Json.Nodes;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Text;
using Microsoft.ML.Lorenza.Tests.Support;
using TorchSharp.PyBridge;

namespace Microsoft.ML.Lorenza.Tests.Hub;

/// <summary>
/// Tiny model repositories for the hub stand-in, written by the engine (no Python needed) and read back as
/// file name → bytes: a RoBERTa (config.json, model.safetensors, vocab.json, merges.txt, tokenizer_config.json), a BERT
/// whose weights are two safetensors shards behind model.safetensors.index.json, a BERT with pytorch_model.bin only, the
/// families added after BERT (XLM-RoBERTa, DistilBERT, ELECTRA), and a config.json of a model type the engine does not support (GPT-2).
/// </summary>
internal static class HubFixtures
{
    public static readonly string[] Texts =
    [
        "a good film with a great story", "a bad film with a dull plot", "the acting was great fun", "it was very poor and dull",
        "i love this movie", "i hate this movie", "fine acting and a good plot", "awful acting and a bad story",
    ];

    /// <summary>A tiny RoBERTa repository (hidden 32, 2 layers, a BPE of 60 merges learned from <see cref="Texts"/>).</summary>
    public static Dictionary<string, byte[]> TinyRoberta(ulong seed = 1, int labels = 2)
    {
        var folder = Directory.CreateTempSubdirectory("lorenza-hub-fixture-").FullName;
        try
        {
            var tokenizer = BpeTrainer.Train(Texts, merges: 60, minFrequency: 1);
            using (var model = RobertaForSequenceClassification.Create(RobertaConfig.Tiny(tokenizer.VocabSize, labels, hidden: 32, layers: 2, heads: 4, maxLength: 64), seed))
                ModelFolder.Save(model, folder);
            tokenizer.SaveTo(folder);
            File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), """{"tokenizer_class": "RobertaTokenizer", "model_max_length": 62}""");
            return Read(folder);
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    /// <summary>A tiny BERT repository: sharded safetensors (<paramref name="weights"/> "shards"), or pytorch_model.bin alone ("bin").</summary>
    public static Dictionary<string, byte[]> TinyBert(string weights = "shards", ulong seed = 2)
    {
        var folder = Directory.CreateTempSubdirectory("lorenza-hub-fixture-").FullName;
        try
        {
            BertFixture.WriteTiny(folder, labels: 2, seed: seed, hidden: 32, layers: 2, maxLength: 64, extraWords: Texts.SelectMany(t => t.Split(' ')));
            File.WriteAllText(Path.Combine(folder, "special_tokens_map.json"), """{"cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]", "mask_token": "[MASK]"}""");
            var files = Read(folder);
            var safetensors = Path.Combine(folder, ModelFolder.SafeTensorsFile);
            files.Remove(ModelFolder.SafeTensorsFile);
            var tensors = SafeTensors.Load(safetensors);
            try
            {
                if (weights == "bin")
                {
                    var bin = Path.Combine(folder, ModelFolder.PyTorchFile);
                    PyTorchPickler.PickleStateDict(bin, tensors.ToDictionary(kv => kv.Key, kv => kv.Value));
                    files[ModelFolder.PyTorchFile] = File.ReadAllBytes(bin);
                    return files;
                }
                // Two shards: the embeddings in the first, everything else in the second, as transformers' save_pretrained splits.
                var names = tensors.Keys.Order(StringComparer.Ordinal).ToList();
                var first = names.Where(n => n.Contains("embeddings", StringComparison.Ordinal)).ToList();
                var map = new JsonObject();
                foreach (var (shard, part) in new[] { ("model-00001-of-00002.safetensors", first), ("model-00002-of-00002.safetensors", names.Except(first).ToList()) })
                {
                    var path = Path.Combine(folder, shard);
                    SafeTensors.Save(path, part.ToDictionary(n => n, n => tensors[n]), new Dictionary<string, string> { ["format"] = "pt" });
                    files[shard] = File.ReadAllBytes(path);
                    foreach (var n in part) map[n] = shard;
                }
                var total = files.Where(f => f.Key.EndsWith(".safetensors", StringComparison.Ordinal)).Sum(f => (long)f.Value.Length);
                files[ModelFolder.SafeTensorsIndexFile] = Encoding.UTF8.GetBytes(new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = total }, ["weight_map"] = map }.ToJsonString());
                return files;
            }
            finally
            {
                foreach (var t in tensors.Values) t.Dispose();
            }
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    /// <summary>
    /// A tiny repository of one of the families added after BERT (<see cref="FamilyFixture.WriteTiny"/>: xlm-roberta with
    /// sentencepiece.bpe.model, distilbert and electra with vocab.txt), with tokenizer_config.json.
    /// </summary>
    public static Dictionary<string, byte[]> TinyFamily(string modelType, ulong seed = 4)
    {
        var folder = Directory.CreateTempSubdirectory("lorenza-hub-fixture-").FullName;
        try
        {
            FamilyFixture.WriteTiny(modelType, folder, labels: 2, seed: seed, hidden: 32, layers: 2, maxLength: 64);
            return Read(folder);
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    /// <summary>A GPT-2-like repository: a config.json whose model_type the engine does not support, and weights that must never be asked for.</summary>
    public static Dictionary<string, byte[]> Unsupported() => new()
    {
        ["config.json"] = Encoding.UTF8.GetBytes("""{"model_type": "gpt2", "n_embd": 32, "n_layer": 2, "vocab_size": 50257}"""),
        ["model.safetensors"] = new byte[4096],
        ["vocab.json"] = Encoding.UTF8.GetBytes("{}"),
        ["merges.txt"] = Encoding.UTF8.GetBytes("#version: 0.2\n"),
    };

    private static Dictionary<string, byte[]> Read(string folder) =>
        Directory.EnumerateFiles(folder).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes, StringComparer.Ordinal);
}
