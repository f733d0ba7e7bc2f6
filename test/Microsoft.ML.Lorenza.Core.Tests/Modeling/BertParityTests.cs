using System.Text.Json;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Runtime;
using Microsoft.ML.Lorenza.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Modeling;

/// <summary>
/// Our BERT against an independent float64 implementation (test/reference/bert_reference.py, PyTorch 1.13 tensors, no
/// transformers) of a small random BERT (2 layers, hidden 32, 4 heads, FFN 37, layer_norm_eps 1e-3 from config.json)
/// on a padded batch of single texts and pairs with token types. The RoBERTa tolerances
/// (<see cref="HuggingFaceParityTests"/>): logits and loss of a float64 forward 1e-6 absolute; a float32 forward 2e-5;
/// embeddings output and last hidden state 1e-4; each gradient 1e-3 × that tensor's largest |gradient| (float32, train
/// mode without dropout; at least 1e-3 of the largest gradient anywhere, as the key biases' gradients are 0); position ids exact. The float64 forward's hidden states and gradients are also held to
/// 1e-6 (× the largest |gradient|), which only the same math meets.
/// </summary>
[TestClass]
public sealed class BertParityTests
{
    private const double Float64Tolerance = 1e-6;
    private const double Float32LogitTolerance = 2e-5;
    private const double HiddenTolerance = 1e-4;
    private const double GradientTolerance = 1e-3;

    private static double[] Flat(JsonElement e) => e.ValueKind == JsonValueKind.Array
        ? e.EnumerateArray().SelectMany(Flat).ToArray()
        : [e.GetDouble()];

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

    private static void AssertClose(double[] expected, Tensor actual, double atol, string what)
    {
        var worst = MaxDifference(expected, actual, what);
        Console.WriteLine($"{what}: max abs difference {worst:E2} (tolerance {atol:E1})");
        Assert.IsTrue(worst <= atol, $"{what}: max abs difference {worst:E3} > {atol:E1}");
    }

    // A folder with config.json and only the chosen weights file, so both loaders are exercised.
    private static BertForSequenceClassification Load(string weightsFile, string scratch)
    {
        Directory.CreateDirectory(scratch);
        File.Copy(Path.Combine(BertFixture.Reference, "config.json"), Path.Combine(scratch, "config.json"), true);
        File.Copy(Path.Combine(BertFixture.Reference, weightsFile), Path.Combine(scratch, weightsFile), true);
        var (model, report) = ModelFolder.Load(scratch);
        Assert.IsInstanceOfType<BertForSequenceClassification>(model, "model_type bert gives a BERT");
        Assert.AreEqual(weightsFile, Path.GetFileName(report.WeightsFile));
        Assert.AreEqual(0, report.FreshlyInitialized.Count, "every parameter comes from the checkpoint");
        CollectionAssert.AreEqual(new[] { "neg", "neutral", "pos" }, model.Config.Labels.ToArray());
        Assert.AreEqual(1e-3, model.Config.LayerNormEps, "layer_norm_eps from config.json");
        return (BertForSequenceClassification)model;
    }

    private static string Scratch() => Path.Combine(Path.GetTempPath(), $"lorenza-bert-parity-{Guid.NewGuid():N}");

    [TestMethod]
    [DataRow("model.safetensors")]
    [DataRow("pytorch_model.bin")]
    public void ForwardMatchesTheReference(string weightsFile)
    {
        var scratch = Scratch();
        try
        {
            using var model = Load(weightsFile, scratch);
            var expected = BertFixture.Expected();
            using var scope = torch.NewDisposeScope();
            model.eval();
            var ids = Int64Matrix(expected.GetProperty("input_ids"));
            var mask = Int64Matrix(expected.GetProperty("attention_mask"));
            var types = Int64Matrix(expected.GetProperty("token_type_ids"));
            var labels = torch.tensor(expected.GetProperty("labels").EnumerateArray().Select(v => v.GetInt64()).ToArray());

            var positions = model.bert.embeddings.PositionIds(ids);
            var length = ids.size(1);
            CollectionAssert.AreEqual(Enumerable.Range(0, (int)ids.size(0)).SelectMany(_ => Enumerable.Range(0, (int)length).Select(t => (long)t)).ToArray(),
                positions.ToArray<long>(), "absolute positions from 0 in every row, padding included");

            using (torch.no_grad())
            {
                using var output = model.forward(ids, mask, types, labels, returnHiddenStates: true);
                AssertClose(Flat(expected.GetProperty("logits")), output.Logits, Float32LogitTolerance, "float32 logits");
                AssertClose([expected.GetProperty("loss").GetDouble()], output.Loss!, Float32LogitTolerance, "float32 loss");
                AssertClose(Flat(expected.GetProperty("embeddings_output")), output.EmbeddingsOutput!, HiddenTolerance, "float32 embeddings output");
                AssertClose(Flat(expected.GetProperty("last_hidden_state")), output.LastHiddenState!, HiddenTolerance, "float32 last hidden state");

                model.to(ScalarType.Float64);
                using var exact = model.forward(ids, mask, types, labels, returnHiddenStates: true);
                AssertClose(Flat(expected.GetProperty("logits")), exact.Logits, Float64Tolerance, "float64 logits");
                AssertClose([expected.GetProperty("loss").GetDouble()], exact.Loss!, Float64Tolerance, "float64 loss");
                AssertClose(Flat(expected.GetProperty("embeddings_output")), exact.EmbeddingsOutput!, Float64Tolerance, "float64 embeddings output");
                AssertClose(Flat(expected.GetProperty("last_hidden_state")), exact.LastHiddenState!, Float64Tolerance, "float64 last hidden state");
                var pooled = model.bert.pooler.call(exact.LastHiddenState!);
                AssertClose(Flat(expected.GetProperty("pooled")), pooled, Float64Tolerance, "float64 pooler output");

                // Token types matter: all-zero types (what a RoBERTa-style caller would pass) give other logits.
                using var untyped = model.forward(ids, mask);
                Assert.IsTrue(MaxDifference(Flat(expected.GetProperty("logits")), untyped.Logits, "untyped") > 1e-3, "token_type_ids change the logits");
            }
        }
        finally
        {
            if (Directory.Exists(scratch)) Directory.Delete(scratch, true);
        }
    }

    [TestMethod]
    [DataRow(ScalarType.Float32, GradientTolerance)]
    [DataRow(ScalarType.Float64, Float64Tolerance)]
    public void GradientsMatchTheReference(ScalarType dtype, double relativeTolerance)
    {
        var scratch = Scratch();
        try
        {
            using var model = Load("model.safetensors", scratch);
            var expected = BertFixture.Expected();
            using var scope = torch.NewDisposeScope();
            model.Config.HiddenDropoutProb = 0; // the reference has no dropout
            model.Config.AttentionProbsDropoutProb = 0;
            model.to(dtype);
            model.train();
            var ids = Int64Matrix(expected.GetProperty("input_ids"));
            var mask = Int64Matrix(expected.GetProperty("attention_mask"));
            var types = Int64Matrix(expected.GetProperty("token_type_ids"));
            var labels = torch.tensor(expected.GetProperty("labels").EnumerateArray().Select(v => v.GetInt64()).ToArray());
            using var output = model.forward(ids, mask, types, labels);
            AssertClose([expected.GetProperty("loss").GetDouble()], output.Loss!, dtype == ScalarType.Float64 ? Float64Tolerance : Float32LogitTolerance, $"{dtype} train-mode loss");
            output.Loss!.backward();

            var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            var grads = expected.GetProperty("grads");
            var worstRelative = 0.0;
            // The key biases' gradients are 0 in exact arithmetic (softmax ignores a shift shared by all keys), so a
            // tensor's scale is at least 1e-3 of the largest gradient anywhere.
            var floor = 1e-3 * grads.EnumerateObject().Max(g => Flat(g.Value).Max(Math.Abs));
            foreach (var grad in grads.EnumerateObject())
            {
                var want = Flat(grad.Value);
                var scale = Math.Max(want.Max(Math.Abs), floor);
                var worst = MaxDifference(want, parameters[grad.Name].grad!, grad.Name);
                Assert.IsTrue(worst <= relativeTolerance * scale, $"{dtype} gradient of {grad.Name}: max abs difference {worst:E3} > {relativeTolerance:E0} × {scale:E3}");
                worstRelative = Math.Max(worstRelative, worst / scale);
            }
            Console.WriteLine($"{dtype} gradients: largest max-abs difference relative to the tensor's largest |gradient|: {worstRelative:E2}");
            CollectionAssert.AreEquivalent(parameters.Keys.ToArray(), grads.EnumerateObject().Select(g => g.Name).ToArray(), "every parameter's gradient is checked");
        }
        finally
        {
            if (Directory.Exists(scratch)) Directory.Delete(scratch, true);
        }
    }

    [TestMethod]
    public void BareEncoderWithEarlyLayerNormNamesLoadsWithAFreshClassifier()
    {
        var bare = Path.Combine(BertFixture.Reference, "bare");
        var (loaded, report) = ModelFolder.Load(bare, ["a", "b"], seed: 3);
        using var model = loaded;
        Assert.IsInstanceOfType<BertForSequenceClassification>(model);
        CollectionAssert.AreEquivalent(new[] { "classifier.weight", "classifier.bias" }, report.FreshlyInitialized.ToArray(), "only the head is new");
        var expected = BertFixture.Expected();
        using var scope = torch.NewDisposeScope();
        model.eval();
        using var noGrad = torch.no_grad();
        using var output = model.forward(Int64Matrix(expected.GetProperty("input_ids")), Int64Matrix(expected.GetProperty("attention_mask")),
            Int64Matrix(expected.GetProperty("token_type_ids")), returnHiddenStates: true);
        AssertClose(Flat(expected.GetProperty("last_hidden_state")), output.LastHiddenState!, HiddenTolerance, "bare encoder's last hidden state (gamma/beta renamed)");
        Assert.AreEqual(2L, output.Logits.size(1));
    }

    [TestMethod]
    public void BertFoldersRoundTripAndBadInputsFailClearly()
    {
        var dir = Scratch();
        try
        {
            var tokenizer = BertFixture.WriteTiny(dir, labels: 3);
            var config = TransformerConfig.Load(Path.Combine(dir, "config.json"));
            Assert.IsInstanceOfType<BertConfig>(config);
            var json = File.ReadAllText(Path.Combine(dir, "config.json"));
            StringAssert.Contains(json, "\"model_type\": \"bert\"");
            StringAssert.Contains(json, "\"BertForSequenceClassification\"");
            var (model, report) = ModelFolder.Load(dir);
            using var _ = model;
            Assert.AreEqual(0, report.FreshlyInitialized.Count);
            var names = model.state_dict().Keys.ToHashSet();
            foreach (var name in new[]
            {
                "bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight", "bert.embeddings.token_type_embeddings.weight",
                "bert.embeddings.LayerNorm.weight", "bert.encoder.layer.1.attention.self.query.weight", "bert.encoder.layer.1.attention.output.dense.bias",
                "bert.encoder.layer.1.attention.output.LayerNorm.bias", "bert.encoder.layer.1.intermediate.dense.weight", "bert.encoder.layer.1.output.dense.weight",
                "bert.encoder.layer.1.output.LayerNorm.weight", "bert.pooler.dense.weight", "classifier.weight", "classifier.bias",
            })
                Assert.IsTrue(names.Contains(name), $"Hugging Face name {name}");
            Assert.AreEqual(tokenizer.VocabSize, model.Config.VocabSize);

            using var scope = torch.NewDisposeScope();
            var ids = torch.tensor(new long[] { 3, 10, 11, 4, 12, 4 }, [1, 6]);
            var mask = torch.ones([1, 6], ScalarType.Int64);
            var badTypes = torch.tensor(new long[] { 0, 0, 0, 0, 2, 2 }, [1, 6]);
            StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.forward(ids, mask, badTypes)).Message, "Token type id 2 is outside the token types [0, 2)");
            var labelsByPosition = torch.tensor(new long[] { 1 });
            StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => model.forward(ids, mask, labelsByPosition)).Message, "token_type_ids shape [1] differs");
            var tooLong = torch.ones([1, 65], ScalarType.Int64);
            StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => model.forward(tooLong, tooLong)).Message, "exceeds the model's maximum of 64 tokens (max_position_embeddings 64)");

            File.Delete(Path.Combine(dir, "vocab.txt"));
            var noVocab = Assert.ThrowsExactly<FileNotFoundException>(() => ModelFolder.LoadTokenizer(dir));
            StringAssert.Contains(noVocab.Message, "model_type 'bert'");
            StringAssert.Contains(noVocab.Message, "no vocab.txt");
            File.WriteAllText(Path.Combine(dir, "config.json"), json.Replace("\"bert\"", "\"gpt2\""));
            StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => ModelFolder.LoadTokenizer(dir)).Message, "'gpt2' model; supported model types: roberta, xlm-roberta, bert, distilbert, electra");
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
