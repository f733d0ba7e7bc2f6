using System.Buffers.Binary;
using System.Text;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Modeling;

/// <summary>Saving and loading model folders, random initialization, and every bad input the loader must reject clearly.</summary>
[TestClass]
public sealed class ModelIoTests
{
    private static string TempDir() => Directory.CreateTempSubdirectory("lorenza-model-").FullName;

    [TestMethod]
    public void SavedFolderLoadsBackBitIdentically()
    {
        var dir = TempDir();
        try
        {
            using var model = RobertaForSequenceClassification.Create(RobertaConfig.Tiny(300, 3), seed: 4);
            ModelFolder.Save(model, dir);
            var (loaded, report) = ModelFolder.Load(dir);
            using var _ = loaded;
            Assert.AreEqual(0, report.FreshlyInitialized.Count + report.Ignored.Count);
            var expected = model.state_dict();
            foreach (var (name, tensor) in loaded.state_dict())
                CollectionAssert.AreEqual(expected[name].ToArray<float>(), tensor.ToArray<float>(), name);
            CollectionAssert.AreEqual(model.Config.Labels, loaded.Config.Labels);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [TestMethod]
    public void NewLabels_GetAFreshHead_TheEncoderIsLoaded_AndOnlyThenAreMismatchesForgiven()
    {
        var dir = TempDir();
        try
        {
            using var threeClasses = RobertaForSequenceClassification.Create(RobertaConfig.Tiny(300, 3), seed: 4);
            ModelFolder.Save(threeClasses, dir);
            var (twoClasses, report) = ModelFolder.Load(dir, ["neg", "pos"], seed: 9);
            using var _ = twoClasses;
            CollectionAssert.AreEquivalent(new[] { "classifier.out_proj.weight", "classifier.out_proj.bias" }, report.FreshlyInitialized.ToArray());
            Assert.AreEqual(2, twoClasses.state_dict()["classifier.out_proj.weight"].shape[0]);
            var saved = threeClasses.state_dict();
            foreach (var (name, tensor) in twoClasses.state_dict().Where(kv => !kv.Key.StartsWith("classifier.out_proj.", StringComparison.Ordinal)))
                CollectionAssert.AreEqual(saved[name].ToArray<float>(), tensor.ToArray<float>(), name);

            // Without a new label list a mis-shaped head is still an error (the folder contradicts its config.json).
            var config = Path.Combine(dir, ModelFolder.ConfigFile);
            var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(config))!.AsObject();
            json["id2label"]!.AsObject()["3"] = "LABEL_3";
            json["label2id"]!.AsObject()["LABEL_3"] = 3;
            File.WriteAllText(config, json.ToJsonString());
            var error = Assert.ThrowsExactly<InvalidDataException>(() => ModelFolder.Load(dir));
            StringAssert.Contains(error.Message, "classifier.out_proj.weight");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [TestMethod]
    public void SavedFolderMatchesTheHuggingFaceFixtureLayout()
    {
        // Re-save the fixture model and compare with HF's own pytorch_model.bin: same names, shapes, values.
        var fixture = SharedData.RequirePath("fixtures", "roberta-tiny");
        var dir = TempDir();
        try
        {
            var (model, _) = ModelFolder.Load(fixture);
            using var __ = model;
            ModelFolder.Save(model, dir);
            var ours = SafeTensors.Load(Path.Combine(dir, ModelFolder.SafeTensorsFile));
            var hf = ModelFolder.LoadPickledStateDict(Path.Combine(fixture, ModelFolder.PyTorchFile));
            CollectionAssert.AreEquivalent(hf.Keys.ToList(), ours.Keys.ToList());
            foreach (var (name, t) in hf) Assert.IsTrue(TensorAssert.Identical(t, ours[name]), name);
            // The safetensors bytes are what Hugging Face writes (the fixture's file was checked against HF).
            CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(fixture, ModelFolder.SafeTensorsFile)), File.ReadAllBytes(Path.Combine(dir, ModelFolder.SafeTensorsFile)));
            foreach (var t in ours.Values.Concat(hf.Values)) t.Dispose();
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [TestMethod]
    public void RandomInitializationFollowsHuggingFaceAndIsDeterministic()
    {
        var config = RobertaConfig.Tiny(2000, 2, hidden: 128);
        using var a = RobertaForSequenceClassification.Create(config, 9);
        using var b = RobertaForSequenceClassification.Create(config, 9);
        foreach (var ((name, p), (_, q)) in a.named_parameters().Zip(b.named_parameters()))
            Assert.IsTrue(TensorAssert.Identical(p, q), $"{name} differs between two runs with the same seed");
        var state = a.state_dict();
        var word = state["roberta.embeddings.word_embeddings.weight"];
        Assert.AreEqual(0.02, word.to(ScalarType.Float64).ToArray<double>().Where((_, i) => i >= 128).Select(v => v * v).Average() is var m ? Math.Sqrt(m) : 0, 0.001, "std ≈ initializer_range");
        Assert.AreEqual(0f, word.select(0, config.PadTokenId).abs().sum().item<float>(), "padding row zeroed");
        Assert.AreEqual(0f, state["roberta.encoder.layer.0.attention.self.query.bias"].abs().sum().item<float>());
        Assert.IsTrue(state["roberta.encoder.layer.1.output.LayerNorm.weight"].eq(1).all().item<bool>());
    }

    [TestMethod]
    public void BFloat16ComputeKeepsFloat32WeightsLogitsAndGradients()
    {
        // The autocast-like mode (TorchSharp 0.107 has no autocast): linear layers and attention products in
        // bfloat16 on casts of the float32 weights; LayerNorm, softmax, residuals, logits and loss in float32.
        using var model = RobertaForSequenceClassification.Create(RobertaConfig.Tiny(300, 2), 5);
        model.eval();
        using var scope = torch.NewDisposeScope();
        var ids = torch.tensor(new long[] { 0, 10, 20, 2, 1, 1, 0, 7, 8, 9, 30, 2 }, [2, 6]);
        var mask = torch.tensor(new long[] { 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1 }, [2, 6]);
        var labels = torch.tensor(new long[] { 0, 1 });
        using var plain = model.forward(ids, mask, labels: labels);
        plain.Loss!.backward();
        var plainGrad = model.roberta.encoder.layer[0].attention.self.query.weight.grad!.clone();
        model.zero_grad();

        model.ComputeType = ScalarType.BFloat16;
        using var mixed = model.forward(ids, mask, labels: labels);
        mixed.Loss!.backward();
        var weight = model.roberta.encoder.layer[0].attention.self.query.weight;
        Assert.AreEqual(ScalarType.Float32, mixed.Logits.dtype);
        Assert.AreEqual(ScalarType.Float32, mixed.Loss.dtype);
        Assert.AreEqual(ScalarType.Float32, weight.dtype, "master weights stay float32");
        Assert.AreEqual(ScalarType.Float32, weight.grad!.dtype, "gradients arrive in float32");
        Assert.IsFalse(TensorAssert.Identical(plain.Logits, mixed.Logits), "the products really ran in bfloat16");
        // bfloat16 keeps 8 significant bits: logits of this size agree to ~1e-2, gradients in direction.
        Assert.IsTrue(mixed.Logits.allclose(plain.Logits, rtol: 0, atol: 2e-2), "logits within bfloat16 rounding of float32's");
        var cosine = (plainGrad * weight.grad).sum().item<float>() / (plainGrad.norm().item<float>() * weight.grad.norm().item<float>());
        Assert.IsTrue(cosine > 0.99, $"gradient direction cos = {cosine}");
        model.ComputeType = null;
        using var again = model.forward(ids, mask, labels: labels);
        Assert.IsTrue(TensorAssert.Identical(plain.Logits, again.Logits), "back to float32 exactly");
        Assert.ThrowsExactly<ArgumentException>(() => model.ComputeType = ScalarType.Int32);
    }

    private static string WriteFile(byte[] bytes)
    {
        var path = Path.GetTempFileName();
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] SafeTensorsBytes(string header, int dataBytes)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)h.Length);
        h.CopyTo(bytes, 8);
        return bytes;
    }

    [TestMethod]
    public void CorruptSafeTensorsFilesAreRejectedWithTheProblem()
    {
        void Expect(byte[] bytes, string fragment)
        {
            var path = WriteFile(bytes);
            try { StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => SafeTensors.Load(path)).Message, fragment); }
            finally { File.Delete(path); }
        }
        Expect([1, 2, 3], "too short");
        var good = SafeTensorsBytes("""{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""", 16);
        Expect(good[..^4], "outside the data section");                      // truncated data
        Expect(good[..12], "runs past the end");                             // truncated header
        Expect(SafeTensorsBytes("""{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}""", 16), "needs 16");   // offsets lie about the size
        Expect(SafeTensorsBytes("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"v":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 16), "overlap");
        Expect(SafeTensorsBytes("""{"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,2]}}""", 2), "unsupported dtype Q4");
        Expect(SafeTensorsBytes("not json", 0), "header is not valid JSON");
        var path = WriteFile(good);
        try { using var t = SafeTensors.Load(path)["w"]; CollectionAssert.AreEqual(new long[] { 2, 2 }, t.shape); }
        finally { File.Delete(path); }
    }

    [TestMethod]
    public void MismatchedCheckpointsListEveryProblemAtOnce()
    {
        var dir = TempDir();
        try
        {
            using var model = RobertaForSequenceClassification.Create(RobertaConfig.Tiny(300, 2), 1);
            var tensors = model.state_dict().Where(kv => !kv.Key.Contains("layer.1.attention.self.key")).ToDictionary(kv => kv.Key, kv => kv.Value);
            using var wrong = torch.zeros([5, 5]);
            using var extra = torch.zeros([3]);
            tensors["roberta.embeddings.LayerNorm.weight"] = wrong;
            tensors["roberta.something.new"] = extra;
            model.Config.Save(Path.Combine(dir, ModelFolder.ConfigFile));
            SafeTensors.Save(Path.Combine(dir, ModelFolder.SafeTensorsFile), tensors);
            var e = Assert.ThrowsExactly<InvalidDataException>(() => ModelFolder.Load(dir));
            StringAssert.Contains(e.Message, "missing (2): roberta.encoder.layer.1.attention.self.key.weight, roberta.encoder.layer.1.attention.self.key.bias");
            StringAssert.Contains(e.Message, "unexpected (1): roberta.something.new");
            StringAssert.Contains(e.Message, "roberta.embeddings.LayerNorm.weight: checkpoint [5, 5], model [64]");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [TestMethod]
    public void BadConfigsAndTokenIdsAreRejected()
    {
        var config = RobertaConfig.Tiny(300, 2);
        config.NumAttentionHeads = 5;
        var e = Assert.ThrowsExactly<ArgumentException>(() => new RobertaForSequenceClassification(config));
        StringAssert.Contains(e.Message, "hidden_size = 64 is not divisible by num_attention_heads = 5");

        using var model = RobertaForSequenceClassification.Create(RobertaConfig.Tiny(300, 2), 1);
        using var scope = torch.NewDisposeScope();
        var ids = torch.tensor(new long[] { 0, 299, 300, 2 }, [1, 4]);
        var mask = torch.ones([1, 4], ScalarType.Int64);
        var outOfRange = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.forward(ids, mask));
        StringAssert.Contains(outOfRange.Message, "Token id 300 is outside the vocabulary [0, 300)");
        var tooLong = torch.ones([1, 200], ScalarType.Int64);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => model.forward(tooLong, tooLong)).Message, "exceeds the model's maximum of 128");

        var dir = TempDir();
        try
        {
            File.WriteAllText(Path.Combine(dir, "config.json"), """{"model_type":"bert"}""");
            StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => RobertaConfig.Load(Path.Combine(dir, "config.json"))).Message, "'bert'");
            StringAssert.Contains(Assert.ThrowsExactly<FileNotFoundException>(() => ModelFolder.LoadWeights(model, dir)).Message, "neither model.safetensors nor pytorch_model.bin");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
