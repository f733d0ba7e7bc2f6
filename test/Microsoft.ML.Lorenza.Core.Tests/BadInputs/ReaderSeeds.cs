using System.Text.Json.Nodes;
using Microsoft.ML.Lorenza.Configuration;
using Microsoft.ML.Lorenza.Datasets;
using Microsoft.ML.Lorenza.Inference;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Pretrained;
using Microsoft.ML.Lorenza.Pretrained.Hub;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.ML.Lorenza.Tests.Text;
using Microsoft.ML.Lorenza.Text;
using Microsoft.ML.Lorenza.Training;
using TorchSharp.PyBridge;
using ITextTokenizer = Microsoft.ML.Lorenza.Text.ITextTokenizer;

namespace Microsoft.ML.Lorenza.Tests.BadInputs;

/// <summary>One reader of outside bytes: the valid file it is given (in <see cref="Folder"/>) and the call that reads it.</summary>
public sealed partial record Reader(string Name, string Folder, string File, int Inputs, Action Read)
{
    /// <summary>The fuzz target's name: a slug of <see cref="Name"/> (model.safetensors (header and data) → model-safetensors-header-and-data).</summary>
    public string Target => NotAlphanumeric().Replace(Name.ToLowerInvariant(), "-").Trim('-');

    [System.Text.RegularExpressions.GeneratedRegex("[^a-z0-9]+")]
    private static partial System.Text.RegularExpressions.Regex NotAlphanumeric();
}

/// <summary>
/// Valid files for every reader, made by the engine in a temporary folder (a tiny BERT classifier folder with lorenza.json,
/// the other families' config.json, a byte-level BPE tokenizer, tokenizer.json files, data files and a checkpoint).
/// </summary>
public sealed class ReaderSeeds : IDisposable
{
    private readonly List<IDisposable> owned = [];

    public ReaderSeeds()
    {
        Root = Directory.CreateTempSubdirectory("lorenza-mutations-").FullName;
        var bert = Folder("bert");
        BertFixture.WriteTiny(bert, hidden: 16, layers: 2, maxLength: 32);
        using (var classifier = TextClassifier.Load(bert)) classifier.Save(bert);
        Readers.Add(new("model.safetensors (header and data)", bert, ModelFolder.SafeTensorsFile, 500, () =>
        {
            var path = Path.Combine(bert, ModelFolder.SafeTensorsFile);
            SafeTensors.ReadHeader(path);
            foreach (var t in SafeTensors.Load(path).Values) t.Dispose();
        }));
        Readers.Add(new("config.json against model.safetensors (bert)", bert, ModelFolder.ConfigFile, 300, () => ModelFolder.Load(bert).Model.Dispose()));
        Readers.Add(new("vocab.txt", bert, BertWordPieceTokenizer.VocabFile, 300, () => Use(BertWordPieceTokenizer.FromFolder(bert))));
        Readers.Add(new("tokenizer_config.json", bert, BertWordPieceTokenizer.ConfigFile, 300, () => Use(BertWordPieceTokenizer.FromFolder(bert))));
        Readers.Add(new("lorenza.json", bert, TextClassifier.MetadataFile, 200, () => TextClassifier.Load(bert).Dispose()));
        AddPickle(Folder("pickle"), Path.Combine(bert, ModelFolder.SafeTensorsFile));

        foreach (var family in new[] { DistilBertConfig.Type, ElectraConfig.Type })
        {
            var folder = Folder(family);
            FamilyFixture.WriteTiny(family, folder, hidden: 16, layers: 1, maxLength: 32);
            AddConfig(family, folder);
        }
        AddConfig(BertConfig.Type, bert);
        var roberta = Folder("roberta");
        var bpe = BpeTrainer.Train(Enumerable.Range(0, 40).Select(i => $"a good film {i}, a bad film {i * 7}"), merges: 40, minFrequency: 1);
        bpe.SaveTo(roberta);
        RobertaConfig.Tiny(bpe.VocabSize, hidden: 16, layers: 1, heads: 4, maxLength: 32).Save(Path.Combine(roberta, ModelFolder.ConfigFile));
        AddConfig(RobertaConfig.Type, roberta);
        var xlmr = Folder("xlm-roberta");
        XlmRobertaConfig.Tiny(300, 2, 16, 1, heads: 4, maxLength: 32).Save(Path.Combine(xlmr, ModelFolder.ConfigFile));
        AddConfig(XlmRobertaConfig.Type, xlmr);
        Readers.Add(new("vocab.json", roberta, RobertaTokenizer.VocabFile, 300, () => Use(RobertaTokenizer.FromFolder(roberta))));
        Readers.Add(new("merges.txt", roberta, RobertaTokenizer.MergesFile, 300, () => Use(RobertaTokenizer.FromFolder(roberta))));

        var wordPieceJson = Folder("tokenizer-json-wordpiece");
        System.IO.File.WriteAllText(Path.Combine(wordPieceJson, TokenizerJson.FileName), TokenizerJsonTests.WordPieceJson(BertFixture.TinyVocabulary, lowercase: true).ToJsonString());
        Readers.Add(new("tokenizer.json (WordPiece)", wordPieceJson, TokenizerJson.FileName, 250, () => Use(TokenizerJson.Load(Path.Combine(wordPieceJson, TokenizerJson.FileName), null))));
        var bpeJson = Folder("tokenizer-json-bpe");
        System.IO.File.WriteAllText(Path.Combine(bpeJson, TokenizerJson.FileName), BpeTokenizerJson(roberta).ToJsonString());
        Readers.Add(new("tokenizer.json (BPE)", bpeJson, TokenizerJson.FileName, 250, () => Use(TokenizerJson.Load(Path.Combine(bpeJson, TokenizerJson.FileName), null))));
        var unigramJson = Folder("tokenizer-json-unigram");
        System.IO.File.WriteAllText(Path.Combine(unigramJson, TokenizerJson.FileName), UnigramTokenizerJson);
        Readers.Add(new("tokenizer.json (Unigram)", unigramJson, TokenizerJson.FileName, 250, () => Use(TokenizerJson.Load(Path.Combine(unigramJson, TokenizerJson.FileName), null))));

        var data = Folder("data");
        var rows = string.Concat(Enumerable.Range(0, 12).Select(i => i % 2 == 0 ? $"a good film {i}\tpos\n" : $"a \"bad\" film {i}\tneg\n"));
        System.IO.File.WriteAllText(Path.Combine(data, "data.tsv"), "text\tlabel\n" + rows);
        System.IO.File.WriteAllText(Path.Combine(data, "data.csv"), "text,label\n" + rows.Replace("\t", ",").Replace("\"bad\"", "\"\"\"bad\"\", really\""));
        Readers.Add(new("data.tsv", data, "data.tsv", 300, () => TextDataset.Load(Path.Combine(data, "data.tsv"), new ColumnSpec("text", "label"))));
        Readers.Add(new("data.csv", data, "data.csv", 300, () => TextDataset.Load(Path.Combine(data, "data.csv"), new ColumnSpec("text", "label"))));

        AddCheckpoint(Folder("checkpoint"), bert);
        AddOnnxGraph(Folder("onnx"));
        AddHubAnswer(Folder("hub"), bert);
    }

    public string Root { get; }
    public List<Reader> Readers { get; } = [];

    private string Folder(string name) => Directory.CreateDirectory(Path.Combine(Root, name)).FullName;

    private void AddConfig(string family, string folder) =>
        Readers.Add(new($"config.json ({family})", folder, ModelFolder.ConfigFile, 200, () => TransformerConfig.Load(Path.Combine(folder, ModelFolder.ConfigFile))));

    /// <summary>pytorch_model.bin as TorchSharp.PyBridge writes it (torch.save's zip format), checked and unpickled.</summary>
    private void AddPickle(string folder, string safetensors)
    {
        var path = Path.Combine(folder, ModelFolder.PyTorchFile);
        var tensors = SafeTensors.Load(safetensors);
        PyTorchPickler.PickleStateDict(path, tensors);
        foreach (var t in tensors.Values) t.Dispose();
        Readers.Add(new("pytorch_model.bin (pickle check and unpickling)", folder, ModelFolder.PyTorchFile, 300, () =>
        {
            foreach (var t in ModelFolder.LoadPickledStateDict(path).Values) t.Dispose();
        }));
    }

    private void AddCheckpoint(string folder, string modelFolder)
    {
        var (model, _) = ModelFolder.Load(modelFolder);
        owned.Add(model);
        var options = new OptimizerOptions { LearningRate = 1e-3 };
        var parameters = model.named_parameters().Select(p => new OptimizedParameter(p.name, p.parameter, null, false)).ToList();
        var optimizer = OptimizerFactory.Create("adamw", parameters, options, new ConstantSchedule(1e-3));
        owned.Add(optimizer);
        var report = new TrainingReport();
        report.StepLosses.AddRange([0.7, 0.69]);
        var path = Path.Combine(folder, TrainingCheckpoint.FileName);
        TrainingCheckpoint.Save(path, model, optimizer, new TrainingPosition(1, 2, 2), report, "fingerprint");
        Readers.Add(new("checkpoint.safetensors", folder, TrainingCheckpoint.FileName, 300, () => TrainingCheckpoint.Load(path, model, optimizer, report, "fingerprint")));
    }

    /// <summary>The pretrained converter's ONNX graph reader, on a tiny BERT exported by PyTorch (TinyBertOnnx/make-tiny-bert-onnx.py).</summary>
    private void AddOnnxGraph(string folder)
    {
        const string file = "model.onnx";
        var path = Path.Combine(folder, file);
        System.IO.File.Copy(Path.Combine(AppContext.BaseDirectory, "BadInputs", "TinyBertOnnx", "tiny-bert.onnx"), path);
        Readers.Add(new("model.onnx (pretrained converter)", folder, file, 200, () => OnnxBertConverter.Convert(System.IO.File.ReadAllBytes(path), "tiny-bert")));
    }

    /// <summary>
    /// The hub client's response handling: every request of a model download (HEAD and GET of config.json, the weights,
    /// the tokenizer files) is answered with the file's bytes, a whole HTTP response; the valid one is a 200 with the
    /// hub's headers and a BERT config.json as its body, so every file is that config and the download completes.
    /// </summary>
    private void AddHubAnswer(string folder, string bertFolder)
    {
        const string file = "answer.http";
        var path = Path.Combine(folder, file);
        var body = System.IO.File.ReadAllBytes(Path.Combine(bertFolder, ModelFolder.ConfigFile));
        var head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Repo-Commit: 0123456789abcdef0123456789abcdef01234567\r\n"
                   + $"ETag: \"8c1f2bd39ea5e50f3e6b6a1f8c9c4b0d2a7e5f61\"\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        System.IO.File.WriteAllBytes(path, [.. System.Text.Encoding.ASCII.GetBytes(head), .. body]);
        var server = new RawHttpAnswer(path);
        owned.Add(server);
        var cache = Path.Combine(folder, "cache");
        var settings = new HubSettings
        {
            Endpoint = server.Endpoint, CacheRoot = cache, Offline = false, RetryDelay = TimeSpan.FromMilliseconds(1),
            EtagTimeout = TimeSpan.FromSeconds(2), DownloadTimeout = TimeSpan.FromSeconds(2),
        };
        Readers.Add(new("hub response (HTTP)", folder, file, 200, () =>
        {
            if (Directory.Exists(cache)) Directory.Delete(cache, recursive: true);
            HubModels.Get(HubModelId.Parse("org/tiny-bert"), new PretrainedModelOptions(), settings);
        }));
    }

    /// <summary>A loaded tokenizer must also encode: a file that loads must not fail later, on the first text.</summary>
    private static void Use(ITextTokenizer tokenizer) => tokenizer.EncodeBatch(["a good film, really", "Ünïcödé ``quoted'' 映画 !!"], ["and a pair", null], 32);

    /// <summary>A small XLM-RoBERTa-style Unigram tokenizer.json (written by hand: no Python needed).</summary>
    private const string UnigramTokenizerJson = """
        {"added_tokens": [{"id": 0, "content": "<s>"}, {"id": 1, "content": "<pad>"}, {"id": 2, "content": "</s>"}, {"id": 3, "content": "<unk>"},
                          {"id": 12, "content": "<mask>", "lstrip": true}],
         "normalizer": {"type": "Sequence", "normalizers": [{"type": "Replace", "pattern": {"String": "``"}, "content": "\""}, {"type": "NFKC"},
                        {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}, {"type": "Strip", "strip_left": false, "strip_right": true}]},
         "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true},
         "post_processor": {"type": "TemplateProcessing",
           "single": [{"SpecialToken": {"id": "<s>"}}, {"Sequence": {"id": "A"}}, {"SpecialToken": {"id": "</s>"}}],
           "pair": [{"SpecialToken": {"id": "<s>"}}, {"Sequence": {"id": "A"}}, {"SpecialToken": {"id": "</s>"}}, {"SpecialToken": {"id": "</s>"}},
                    {"Sequence": {"id": "B"}}, {"SpecialToken": {"id": "</s>"}}]},
         "model": {"type": "Unigram", "unk_id": 3, "vocab": [["<s>", 0.0], ["<pad>", 0.0], ["</s>", 0.0], ["<unk>", 0.0], ["▁", -2.0], ["a", -3.0],
                   ["▁a", -2.5], ["▁good", -4.0], ["▁film", -4.0], ["o", -3.5], [",", -3.0], ["▁really", -5.0], ["<mask>", 0.0]]}}
        """;

    /// <summary>A byte-level BPE tokenizer.json (RoBERTa's layout) for the vocab.json and merges.txt in <paramref name="folder"/>.</summary>
    private static JsonObject BpeTokenizerJson(string folder)
    {
        var vocab = JsonNode.Parse(System.IO.File.ReadAllText(Path.Combine(folder, RobertaTokenizer.VocabFile)))!.AsObject();
        var merges = System.IO.File.ReadAllLines(Path.Combine(folder, RobertaTokenizer.MergesFile)).Skip(1).Where(l => l.Length > 0);
        int Id(string t) => (int)vocab[t]!;
        return new JsonObject
        {
            ["added_tokens"] = new JsonArray(new[] { "<s>", "<pad>", "</s>", "<unk>", "<mask>" }.Select(t => (JsonNode)new JsonObject
            {
                ["id"] = Id(t), ["content"] = t, ["single_word"] = false, ["lstrip"] = t == "<mask>", ["rstrip"] = false, ["special"] = true,
            }).ToArray()),
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = true },
            ["post_processor"] = new JsonObject { ["type"] = "RobertaProcessing", ["sep"] = new JsonArray("</s>", Id("</s>")), ["cls"] = new JsonArray("<s>", Id("<s>")) },
            ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = vocab.DeepClone(), ["merges"] = new JsonArray(merges.Select(m => (JsonNode)m).ToArray()) },
        };
    }

    public void Dispose()
    {
        foreach (var o in owned) o.Dispose();
        Directory.Delete(Root, true);
    }
}
