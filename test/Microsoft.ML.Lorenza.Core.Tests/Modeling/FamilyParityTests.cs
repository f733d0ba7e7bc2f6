using System.Text.Json;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Runtime;
using Microsoft.ML.Lorenza.Onnx;
using Microsoft.ML.Lorenza.Tests.Onnx;
using Microsoft.ML.Lorenza.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Modeling;

/// <summary>
/// DistilBERT, XLM-RoBERTa and ELECTRA against independent float64 implementations (test/reference/families_reference.py,
/// PyTorch 1.13 tensors, no transformers) of small random models (2 layers, hidden 32, 4 heads, FFN 37; DistilBERT with
/// sinusoidal positions, XLM-RoBERTa and ELECTRA with layer_norm_eps 1e-3 from config.json, ELECTRA with embedding_size 16
/// and its projection) on a padded batch of single texts and pairs. BERT's tolerances (<see cref="BertParityTests"/>): a
/// float64 forward's logits, loss, embeddings output and last hidden state 1e-6 absolute, its gradients 1e-6 × the tensor's
/// largest |gradient|; a float32 forward's logits and loss 2e-5, hidden states 1e-4, gradients 1e-3 × the tensor's largest
/// |gradient| (at least 1e-3 of the largest anywhere); the ONNX export's logits in ONNX Runtime 1e-4.
/// </summary>
[TestClass]
public sealed class FamilyParityTests
{
    private const double Float64Tolerance = 1e-6;
    private const double Float32LogitTolerance = 2e-5;
    private const double HiddenTolerance = 1e-4;
    private const double GradientTolerance = 1e-3;

    private static double[] Flat(JsonElement e) => e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().SelectMany(Flat).ToArray() : [e.GetDouble()];

    private static Tensor Int64Matrix(JsonElement rows)
    {
        var data = rows.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt64()).ToArray()).ToArray();
        return torch.tensor(data.SelectMany(r => r).ToArray(), [data.Length, data[0].Length]);
    }

    private static double MaxDifference(double[] expected, Tensor actual, string what)
    {
        var got = actual.detach().to(ScalarType.Float64).cpu().ToArray<double>();
        Assert.AreEqual(expected.Length, got.Length, $"{what}: element count");
        return expected.Select((v, i) => Math.Abs(v - got[i])).Max();
    }

    private static double AssertClose(double[] expected, Tensor actual, double atol, string what)
    {
        var worst = MaxDifference(expected, actual, what);
        Console.WriteLine($"{what}: max abs difference {worst:E2} (tolerance {atol:E1})");
        Assert.IsTrue(worst <= atol, $"{what}: max abs difference {worst:E3} > {atol:E1}");
        return worst;
    }

    private static readonly Dictionary<string, Type> Classes = new()
    {
        ["distilbert"] = typeof(DistilBertForSequenceClassification),
        ["xlm-roberta"] = typeof(RobertaForSequenceClassification),
        ["electra"] = typeof(ElectraForSequenceClassification),
    };

    // A folder with config.json and only the chosen weights file, so both loaders are exercised.
    private static SequenceClassifier Load(string family, string weightsFile, string scratch)
    {
        Directory.CreateDirectory(scratch);
        var reference = FamilyFixture.Reference(family);
        File.Copy(Path.Combine(reference, "config.json"), Path.Combine(scratch, "config.json"), true);
        File.Copy(Path.Combine(reference, weightsFile), Path.Combine(scratch, weightsFile), true);
        var (model, report) = ModelFolder.Load(scratch);
        Assert.IsInstanceOfType(model, Classes[family], $"model_type {family}");
        Assert.AreEqual(family, model.Config.ModelType);
        Assert.AreEqual(0, report.FreshlyInitialized.Count, "every parameter comes from the checkpoint");
        CollectionAssert.AreEqual(new[] { "neg", "neutral", "pos" }, model.Config.Labels.ToArray());
        return model;
    }

    private static string Scratch() => Path.Combine(Path.GetTempPath(), $"lorenza-family-parity-{Guid.NewGuid():N}");

    private static (Tensor Ids, Tensor Mask, Tensor Types, Tensor Labels) Batch(JsonElement expected) =>
        (Int64Matrix(expected.GetProperty("input_ids")), Int64Matrix(expected.GetProperty("attention_mask")),
         Int64Matrix(expected.GetProperty("token_type_ids")), torch.tensor(expected.GetProperty("labels").EnumerateArray().Select(v => v.GetInt64()).ToArray()));

    [TestMethod]
    [DataRow("distilbert", "model.safetensors")]
    [DataRow("distilbert", "pytorch_model.bin")]
    [DataRow("xlm-roberta", "model.safetensors")]
    [DataRow("xlm-roberta", "pytorch_model.bin")]
    [DataRow("electra", "model.safetensors")]
    [DataRow("electra", "pytorch_model.bin")]
    public void ForwardMatchesTheReference(string family, string weightsFile)
    {
        var scratch = Scratch();
        try
        {
            using var model = Load(family, weightsFile, scratch);
            var expected = FamilyFixture.Expected(family);
            using var scope = torch.NewDisposeScope();
            model.eval();
            var (ids, mask, types, labels) = Batch(expected);
            using (torch.no_grad())
            {
                using var output = model.forward(ids, mask, types, labels, returnHiddenStates: true);
                AssertClose(Flat(expected.GetProperty("logits")), output.Logits, Float32LogitTolerance, $"{family} float32 logits");
                AssertClose([expected.GetProperty("loss").GetDouble()], output.Loss!, Float32LogitTolerance, $"{family} float32 loss");
                AssertClose(Flat(expected.GetProperty("embeddings_output")), output.EmbeddingsOutput!, HiddenTolerance, $"{family} float32 embeddings output");
                AssertClose(Flat(expected.GetProperty("last_hidden_state")), output.LastHiddenState!, HiddenTolerance, $"{family} float32 last hidden state");

                model.to(ScalarType.Float64);
                using var exact = model.forward(ids, mask, types, labels, returnHiddenStates: true);
                AssertClose(Flat(expected.GetProperty("logits")), exact.Logits, Float64Tolerance, $"{family} float64 logits");
                AssertClose([expected.GetProperty("loss").GetDouble()], exact.Loss!, Float64Tolerance, $"{family} float64 loss");
                AssertClose(Flat(expected.GetProperty("embeddings_output")), exact.EmbeddingsOutput!, Float64Tolerance, $"{family} float64 embeddings output");
                AssertClose(Flat(expected.GetProperty("last_hidden_state")), exact.LastHiddenState!, Float64Tolerance, $"{family} float64 last hidden state");
            }
        }
        finally
        {
            if (Directory.Exists(scratch)) Directory.Delete(scratch, true);
        }
    }

    [TestMethod]
    [DataRow("distilbert", ScalarType.Float32, GradientTolerance)]
    [DataRow("distilbert", ScalarType.Float64, Float64Tolerance)]
    [DataRow("xlm-roberta", ScalarType.Float32, GradientTolerance)]
    [DataRow("xlm-roberta", ScalarType.Float64, Float64Tolerance)]
    [DataRow("electra", ScalarType.Float32, GradientTolerance)]
    [DataRow("electra", ScalarType.Float64, Float64Tolerance)]
    public void GradientsMatchTheReference(string family, ScalarType dtype, double relativeTolerance)
    {
        var scratch = Scratch();
        try
        {
            using var model = Load(family, "model.safetensors", scratch);
            var expected = FamilyFixture.Expected(family);
            using var scope = torch.NewDisposeScope();
            model.Config.HiddenDropoutProb = 0; // the reference has no dropout
            model.Config.AttentionProbsDropoutProb = 0;
            model.Config.ClassifierDropout = 0;
            model.to(dtype);
            model.train();
            var (ids, mask, types, labels) = Batch(expected);
            using var output = model.forward(ids, mask, types, labels);
            AssertClose([expected.GetProperty("loss").GetDouble()], output.Loss!, dtype == ScalarType.Float64 ? Float64Tolerance : Float32LogitTolerance, $"{family} {dtype} train-mode loss");
            output.Loss!.backward();

            var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            var grads = expected.GetProperty("grads");
            var floor = 1e-3 * grads.EnumerateObject().Max(g => Flat(g.Value).Max(Math.Abs));
            var worstRelative = 0.0;
            foreach (var grad in grads.EnumerateObject())
            {
                var want = Flat(grad.Value);
                var scale = Math.Max(want.Max(Math.Abs), floor);
                var worst = MaxDifference(want, parameters[grad.Name].grad!, grad.Name);
                Assert.IsTrue(worst <= relativeTolerance * scale, $"{family} {dtype} gradient of {grad.Name}: max abs difference {worst:E3} > {relativeTolerance:E0} × {scale:E3}");
                worstRelative = Math.Max(worstRelative, worst / scale);
            }
            Console.WriteLine($"{family} {dtype} gradients: largest max-abs difference relative to the tensor's largest |gradient|: {worstRelative:E2}");
            var frozen = expected.GetProperty("frozen").EnumerateArray().Select(f => f.GetString()!).ToArray();
            foreach (var name in frozen) Assert.IsNull(parameters[name].grad, $"{name} is not trained (sinusoidal positions)");
            CollectionAssert.AreEquivalent(parameters.Keys.Except(frozen).ToArray(), grads.EnumerateObject().Select(g => g.Name).ToArray(), "every trained parameter's gradient is checked");
        }
        finally
        {
            if (Directory.Exists(scratch)) Directory.Delete(scratch, true);
        }
    }

    [TestMethod]
    [DataRow("distilbert")]
    [DataRow("xlm-roberta")]
    [DataRow("electra")]
    public void OnnxExportRunsInOnnxRuntimeWithTheSameLogits(string family)
    {
        var (loaded, _) = ModelFolder.Load(FamilyFixture.Reference(family));
        using var model = loaded;
        var dir = Directory.CreateTempSubdirectory($"lorenza-onnx-{family}-").FullName;
        try
        {
            var path = Path.Combine(dir, "model.onnx");
            ClassifierOnnxExporter.Export(model, path);
            var worst = OnnxExportTests.CheckAgainstOnnxRuntime(model, path, 1e-4);
            Console.WriteLine($"{family} ONNX vs engine, max abs logit difference {worst:E2}; inputs {string.Join(", ", ClassifierOnnxExporter.InputNames(model))}");
            CollectionAssert.AreEqual(family == "electra" ? new[] { "input_ids", "attention_mask", "token_type_ids" } : new[] { "input_ids", "attention_mask" },
                ClassifierOnnxExporter.InputNames(model).ToArray());
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [TestMethod]
    public void DistilBertNamesSinusoidalPositionsAndConfigKeys()
    {
        var (loaded, _) = ModelFolder.Load(FamilyFixture.Reference("distilbert"));
        using var model = (DistilBertForSequenceClassification)loaded;
        var config = (DistilBertConfig)model.Config;
        Assert.IsTrue(config.SinusoidalPositions);
        Assert.AreEqual(1e-12, config.LayerNormEps, "DistilBERT's fixed eps");
        Assert.AreEqual(0.2, config.ClassifierDropout, "seq_classif_dropout");
        var names = model.state_dict().Keys.ToHashSet();
        foreach (var name in new[]
        {
            "distilbert.embeddings.word_embeddings.weight", "distilbert.embeddings.position_embeddings.weight", "distilbert.embeddings.LayerNorm.weight",
            "distilbert.transformer.layer.1.attention.q_lin.weight", "distilbert.transformer.layer.1.attention.out_lin.bias",
            "distilbert.transformer.layer.1.sa_layer_norm.weight", "distilbert.transformer.layer.1.ffn.lin1.weight", "distilbert.transformer.layer.1.ffn.lin2.bias",
            "distilbert.transformer.layer.1.output_layer_norm.bias", "pre_classifier.weight", "classifier.weight",
        })
            Assert.IsTrue(names.Contains(name), $"Hugging Face name {name}");
        Assert.IsFalse(names.Any(n => n.Contains("token_type")), "no token types");
        CollectionAssert.AreEquivalent(
            Enumerable.Range(0, 2).SelectMany(l => new[] { "attention.q_lin", "attention.k_lin", "attention.v_lin", "attention.out_lin", "ffn.lin1", "ffn.lin2" }
                .Select(n => $"distilbert.transformer.layer.{l}.{n}.weight")).ToArray(),
            model.ManagedLinears().Select(m => m.name).ToArray(), "the optimizers manage q/k/v/out and the FFN matrices");

        // A fresh model fills the same sinusoidal table the reference wrote, and does not train it.
        using var fresh = DistilBertForSequenceClassification.Create(config.Clone(), 3);
        using var diff = fresh.distilbert.embeddings.position_embeddings.weight!.sub(model.distilbert.embeddings.position_embeddings.weight!).abs().max();
        Assert.IsTrue(diff.item<float>() < 1e-6, $"sinusoidal table: max |difference| {diff.item<float>():E2}");
        Assert.IsFalse(fresh.distilbert.embeddings.position_embeddings.weight!.requires_grad, "sinusoidal positions are frozen");

        // Saved with DistilBERT's own keys, and loaded back to the same logits.
        var dir = Scratch();
        try
        {
            ModelFolder.Save(model, dir);
            var json = File.ReadAllText(Path.Combine(dir, "config.json"));
            foreach (var key in new[] { "\"dim\"", "\"n_layers\"", "\"n_heads\"", "\"hidden_dim\"", "\"seq_classif_dropout\"", "\"sinusoidal_pos_embds\": true", "\"DistilBertForSequenceClassification\"" })
                StringAssert.Contains(json, key);
            foreach (var key in new[] { "\"hidden_size\"", "\"type_vocab_size\"", "\"layer_norm_eps\"" })
                Assert.IsFalse(json.Contains(key), $"no BERT key {key} in a DistilBERT config");
            var (again, _) = ModelFolder.Load(dir);
            using var reloaded = again;
            var expected = FamilyFixture.Expected("distilbert");
            var (ids, mask, _, _) = Batch(expected);
            model.eval(); reloaded.eval();
            using var noGrad = torch.no_grad();
            using var a = model.forward(ids, mask);
            using var b = reloaded.forward(ids, mask);
            CollectionAssert.AreEqual(a.Logits.ToArray<float>(), b.Logits.ToArray<float>(), "save/load keeps the logits bit for bit");
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [TestMethod]
    public void ElectraAndXlmRobertaKeepTheirKeysAndNames()
    {
        var (electra, _) = ModelFolder.Load(FamilyFixture.Reference("electra"));
        using (electra)
        {
            Assert.AreEqual(16, ((ElectraConfig)electra.Config).EmbeddingSize);
            var names = electra.state_dict().Keys.ToHashSet();
            foreach (var name in new[] { "electra.embeddings.word_embeddings.weight", "electra.embeddings_project.weight", "electra.encoder.layer.1.attention.self.query.weight", "classifier.dense.weight", "classifier.out_proj.bias" })
                Assert.IsTrue(names.Contains(name), $"Hugging Face name {name}");
            Assert.IsFalse(electra.ManagedLinears().Any(m => m.name.Contains("embeddings_project")), "the projection is not an encoder block's matrix");
            var json = electra.Config.ToJson().ToJsonString();
            StringAssert.Contains(json, "\"embedding_size\":16");
            StringAssert.Contains(json, "\"summary_type\":\"first\""); // unknown keys kept
        }
        var (xlmr, _) = ModelFolder.Load(FamilyFixture.Reference("xlm-roberta"));
        using (xlmr)
        {
            Assert.IsInstanceOfType<XlmRobertaConfig>(xlmr.Config);
            var json = xlmr.Config.ToJson().ToJsonString();
            StringAssert.Contains(json, "\"model_type\":\"xlm-roberta\"");
            StringAssert.Contains(json, "\"XLMRobertaForSequenceClassification\"");
        }
    }

    [TestMethod]
    public void SupportedModelTypesAreOneList()
    {
        CollectionAssert.AreEqual(new[] { "roberta", "xlm-roberta", "bert", "distilbert", "electra" }, ModelFamilies.SupportedModelTypes.ToArray());
        Assert.IsTrue(ModelFamilies.IsSupported(null), "no model_type: roberta");
        Assert.IsFalse(ModelFamilies.IsSupported("gpt2"));
        StringAssert.Contains(ModelFamilies.UnsupportedMessage("gpt2", "x/config.json"), "x/config.json describes a 'gpt2' model; supported model types: roberta, xlm-roberta, bert, distilbert, electra.");
        foreach (var family in ModelFamilies.All)
        {
            var config = family.NewConfig();
            Assert.AreEqual(family.ModelType, config.ModelType);
            StringAssert.Contains(config.ToJson().ToJsonString(), family.Classifier);
            CollectionAssert.Contains(family.TokenizerFiles.ToArray(), "tokenizer.json");
        }
    }
}
