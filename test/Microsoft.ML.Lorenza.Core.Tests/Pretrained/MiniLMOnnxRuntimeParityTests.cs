using System.Text.Json;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Pretrained;
using Microsoft.ML.Lorenza.Runtime;
using Microsoft.ML.OnnxRuntime;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Lorenza.Tests.Pretrained;

/// <summary>
/// The independent check of the conversion: ONNX Runtime runs the package's original model.onnx on a padded batch,
/// and a plain float64 BERT encoder written here (embeddings, LayerNorm, six post-LN blocks; no engine code) runs
/// on the converted folder's tensors and config. Their last hidden states agree on every real (non-padded) token.
/// </summary>
[TestClass]
public sealed class MiniLMOnnxRuntimeParityTests
{
    private static string cache = "";
    private static string folder = "";

    [ClassInitialize]
    public static void ConvertOnce(TestContext _)
    {
        cache = MiniLMPackage.TempFolder("pretrained-ort");
        folder = PretrainedModels.Get("minilm", MiniLMPackage.Options(cache));
    }

    [ClassCleanup]
    public static void DeleteCache() => Directory.Delete(cache, recursive: true);

    [TestMethod]
    public void TheConvertedEncoderGivesOnnxRuntimesLastHiddenStateOnAPaddedBatch()
    {
        var vocab = File.ReadAllLines(Path.Combine(folder, "vocab.txt")).Select((token, id) => (token, id)).ToDictionary(p => p.token, p => (long)p.id);
        long[] Ids(string text) => text.Split(' ').Select(w => vocab[w]).ToArray();
        // Three rows of different lengths (padded with [PAD] = 0), the third a sentence pair with token type 1 on its second part.
        var first = Ids("[CLS] the movie was wonderful [SEP]");
        var second = Ids("[CLS] i did not like it at all , the film was terrible [SEP]");
        var pairA = Ids("[CLS] a good film [SEP]");
        var pairB = Ids("i liked it . [SEP]");
        var rows = new[] { first, second, pairA.Concat(pairB).ToArray() };
        var length = rows.Max(r => r.Length);
        var ids = rows.Select(r => r.Concat(Enumerable.Repeat(0L, length - r.Length)).ToArray()).ToArray();
        var mask = rows.Select(r => Enumerable.Range(0, length).Select(t => t < r.Length ? 1L : 0L).ToArray()).ToArray();
        var types = rows.Select((r, b) => Enumerable.Range(0, length).Select(t => b == 2 && t >= pairA.Length && t < r.Length ? 1L : 0L).ToArray()).ToArray();

        var reference = RunOnnxRuntime(MiniLMPackage.Onnx, ids, mask, types);
        var ours = Forward(folder, ids, mask, types);

        const int hidden = 384;
        Assert.AreEqual(rows.Length * length * hidden, reference.Length);
        var worst = 0.0;
        for (var b = 0; b < rows.Length; b++)
            for (var t = 0; t < rows[b].Length; t++)
                for (var h = 0; h < hidden; h++)
                {
                    var at = (b * length + t) * hidden + h;
                    worst = Math.Max(worst, Math.Abs(ours[at] - reference[at]));
                }
        var scale = reference.Max(v => Math.Abs(v));
        Console.WriteLine($"last_hidden_state, batch 3 x {length} (real lengths {string.Join(", ", rows.Select(r => r.Length))}): " +
                          $"max |converted float64 - ONNX Runtime| = {worst:E2} over real tokens (values up to {scale:F2})");
        Assert.IsTrue(worst <= 1e-4, $"max abs difference {worst:E2} > 1e-4");
    }

    /// <summary>
    /// The conversion check through the engine: the folder loaded as the engine's BertForSequenceClassification (float32,
    /// the batch tokenized by the engine's WordPiece tokenizer, a pair included) gives ONNX Runtime's last hidden state
    /// on the original model.onnx within 1e-4 on every real token.
    /// </summary>
    [TestMethod]
    public void TheEnginesBertOnTheConvertedFolderGivesOnnxRuntimesLastHiddenState()
    {
        var tokenizer = ModelFolder.LoadTokenizer(folder);
        var batch = tokenizer.EncodeBatch(
            ["The movie was wonderful!", "I did NOT like it at all; the film was terrible, and the café's coffee too.", "A good film."],
            [null, null, "I liked it, unlike Zürich's critics."], maxLength: 128);
        long[][] Rows(long[] flat) => Enumerable.Range(0, batch.BatchSize).Select(b => flat.Skip(b * batch.SequenceLength).Take(batch.SequenceLength).ToArray()).ToArray();
        var (ids, mask, types) = (Rows(batch.InputIds), Rows(batch.AttentionMask), Rows(batch.TokenTypeIds));
        Assert.IsTrue(types[2].Contains(1L) && mask.Any(r => r.Contains(0L)), "the batch has a pair and padding");

        var reference = RunOnnxRuntime(MiniLMPackage.Onnx, ids, mask, types);
        var (model, report) = ModelFolder.Load(folder);
        using (model)
        {
            Assert.IsInstanceOfType<BertForSequenceClassification>(model);
            CollectionAssert.AreEquivalent(new[] { "classifier.weight", "classifier.bias" }, report.FreshlyInitialized.ToArray(), "only the classification head is new");
            model.eval();
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            long[] shape = [batch.BatchSize, batch.SequenceLength];
            using var output = model.forward(torch.tensor(batch.InputIds, shape), torch.tensor(batch.AttentionMask, shape), torch.tensor(batch.TokenTypeIds, shape), returnHiddenStates: true);
            var ours = output.LastHiddenState!.to(ScalarType.Float32).data<float>().ToArray();
            var worst = 0.0;
            for (var b = 0; b < batch.BatchSize; b++)
                for (var t = 0; t < batch.SequenceLength; t++)
                {
                    if (mask[b][t] == 0) continue;
                    for (var h = 0; h < 384; h++)
                    {
                        var at = (b * batch.SequenceLength + t) * 384 + h;
                        worst = Math.Max(worst, Math.Abs(ours[at] - reference[at]));
                    }
                }
            Console.WriteLine($"engine BertForSequenceClassification (float32) vs ONNX Runtime, last_hidden_state on a padded batch 3 x {batch.SequenceLength} with a pair: max |diff| = {worst:E2} over real tokens");
            Assert.IsTrue(worst <= 1e-4, $"max abs difference {worst:E2} > 1e-4");
        }
    }

    private static float[] RunOnnxRuntime(byte[] model, long[][] ids, long[][] mask, long[][] types)
    {
        long[] shape = [ids.Length, ids[0].Length];
        using var session = new InferenceSession(model);
        CollectionAssert.AreEquivalent(new[] { "input_ids", "attention_mask", "token_type_ids" }, session.InputMetadata.Keys.ToArray());
        Assert.IsTrue(session.OutputMetadata.ContainsKey("last_hidden_state"), string.Join(", ", session.OutputMetadata.Keys));
        using var idValue = OrtValue.CreateTensorValueFromMemory(ids.SelectMany(r => r).ToArray(), shape);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask.SelectMany(r => r).ToArray(), shape);
        using var typeValue = OrtValue.CreateTensorValueFromMemory(types.SelectMany(r => r).ToArray(), shape);
        using var options = new RunOptions();
        using var outputs = session.Run(options, ["input_ids", "attention_mask", "token_type_ids"], [idValue, maskValue, typeValue], ["last_hidden_state"]);
        CollectionAssert.AreEqual(new long[] { shape[0], shape[1], 384 }, outputs[0].GetTensorTypeAndShape().Shape);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>BertModel's last hidden state in float64: LN(words + positions + types), then per layer h = LN(h + Attn(h)), LN(h + W2 gelu(W1 h)).</summary>
    private static double[] Forward(string folder, long[][] ids, long[][] mask, long[][] types)
    {
        using var config = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "config.json")));
        var c = config.RootElement;
        int hidden = c.GetProperty("hidden_size").GetInt32(), heads = c.GetProperty("num_attention_heads").GetInt32(), layers = c.GetProperty("num_hidden_layers").GetInt32();
        var eps = c.GetProperty("layer_norm_eps").GetDouble();
        int batch = ids.Length, length = ids[0].Length, headDim = hidden / heads;

        using var weights = new DisposableTensors(Path.Combine(folder, "model.safetensors"));
        using var scope = NewDisposeScope();
        Tensor W(string name) => weights[name].to(ScalarType.Float64);
        Tensor Rows(long[][] values) => tensor(values.SelectMany(r => r).ToArray());
        Tensor LayerNorm(Tensor x, string prefix) => F.layer_norm(x, [hidden], W($"{prefix}.weight"), W($"{prefix}.bias"), eps);
        Tensor Linear(Tensor x, string prefix) => F.linear(x, W($"{prefix}.weight"), W($"{prefix}.bias"));

        var positions = tensor(Enumerable.Range(0, length).Select(p => (long)p).ToArray());
        var h = W("embeddings.word_embeddings.weight").index_select(0, Rows(ids)).view(batch, length, hidden)
            .add(W("embeddings.position_embeddings.weight").index_select(0, positions).unsqueeze(0), Scalars.One)
            .add(W("embeddings.token_type_embeddings.weight").index_select(0, Rows(types)).view(batch, length, hidden), Scalars.One);
        h = LayerNorm(h, "embeddings.LayerNorm");

        var padding = tensor(mask.SelectMany(r => r.Select(m => m == 0)).ToArray()).view(batch, 1, 1, length);
        using var scale = (1.0 / Math.Sqrt(headDim)).ToScalar();
        using var minusInfinity = double.NegativeInfinity.ToScalar();
        for (var l = 0; l < layers; l++)
        {
            var p = $"encoder.layer.{l}";
            Tensor Heads(string module) => Linear(h, $"{p}.attention.self.{module}").view(batch, length, heads, headDim).transpose(1, 2);
            var scores = Heads("query").matmul(Heads("key").transpose(-1, -2)).mul(scale).masked_fill(padding, minusInfinity);
            var context = F.softmax(scores, -1).matmul(Heads("value")).transpose(1, 2).reshape(batch, length, hidden);
            h = LayerNorm(Linear(context, $"{p}.attention.output.dense").add(h, Scalars.One), $"{p}.attention.output.LayerNorm");
            var inner = F.gelu(Linear(h, $"{p}.intermediate.dense"));
            h = LayerNorm(Linear(inner, $"{p}.output.dense").add(h, Scalars.One), $"{p}.output.LayerNorm");
        }
        return h.data<double>().ToArray();
    }
}
