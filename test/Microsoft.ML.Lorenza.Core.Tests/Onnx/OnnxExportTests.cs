using System.Text.Json;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Onnx;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.ML.Lorenza.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Microsoft.ML.Lorenza.Datasets;
using Microsoft.ML.Lorenza.Inference;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Tests.Onnx;

/// <summary>
/// Exported models run in the real ONNX Runtime (NuGet Microsoft.ML.OnnxRuntime) and give the C# forward's logits
/// (max abs difference ≤ 1e-4 in float32) at two batch sizes and two sequence lengths with padding;
/// Debian's onnx.checker (full_check) accepts the files.
/// </summary>
[TestClass]
public sealed class OnnxExportTests
{
    private static long[][] Batch(int batch, int length, int vocab, int seed, int pad)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, batch).Select(b =>
        {
            var real = Math.Max(2, length - b * 3); // later rows padded more
            var first = pad == 0 ? 1L : 0L; // RoBERTa's <s> is 0; BERT pads with 0
            return Enumerable.Range(0, length).Select(t => t == 0 ? first : t == real - 1 ? 2L : t < real ? random.Next(3, vocab) : pad).ToArray();
        }).ToArray();
    }

    // BERT rows: a first segment of type 0 and, from the middle of the real tokens on, a second of type 1; padding 0.
    private static long[][] TokenTypes(long[][] ids, long[][] mask) =>
        ids.Select((row, r) =>
        {
            var real = (int)mask[r].Sum();
            return row.Select((_, t) => t < real && t >= real / 2 ? 1L : 0L).ToArray();
        }).ToArray();

    /// <summary>The engine's logits against ONNX Runtime's; returns the largest difference seen.</summary>
    internal static double CheckAgainstOnnxRuntime(SequenceClassifier model, string onnxPath, double tolerance)
    {
        model.eval();
        var largest = 0.0;
        var typed = ClassifierOnnxExporter.InputNames(model).Contains("token_type_ids");
        foreach (var (batch, length) in new[] { (1, 7), (3, 7), (1, 19), (3, 19) })
        {
            using var scope = torch.NewDisposeScope();
            var ids = Batch(batch, length, model.Config.VocabSize, batch * 31 + length, model.Config.PadTokenId);
            var mask = ids.Select(r => r.Select(v => v == model.Config.PadTokenId ? 0L : 1L).ToArray()).ToArray();
            var types = typed ? TokenTypes(ids, mask) : null;
            Tensor Matrix(long[][] rows) => torch.tensor(rows.SelectMany(r => r).ToArray(), [batch, length]);
            float[] ours;
            using (torch.no_grad())
            using (var output = model.forward(Matrix(ids), Matrix(mask), types is null ? null : Matrix(types)))
                ours = output.Logits.ToArray<float>();
            var reply = OnnxRuntimeReference.Run(onnxPath, ids, mask, types);
            var theirs = reply.Logits.SelectMany(r => r).ToArray();
            Assert.AreEqual(ours.Length, theirs.Length);
            var worst = ours.Select((v, i) => Math.Abs((double)v - theirs[i])).Max();
            Console.WriteLine($"{Path.GetFileName(onnxPath)} batch {batch}, length {length}: max abs logit difference {worst:E2}");
            Assert.IsTrue(worst <= tolerance, $"batch {batch}, length {length}: max |logit difference| {worst:E2} > {tolerance:E0}");
            largest = Math.Max(largest, worst);
            foreach (var row in reply.Probabilities) Assert.AreEqual(1.0, row.Sum(v => (double)v), 1e-5, "probabilities sum to 1");
            // The graph's own softmax of its logits, against a softmax computed here in double.
            for (var r = 0; r < batch; r++)
            {
                var max = reply.Logits[r].Max();
                var exp = reply.Logits[r].Select(v => Math.Exp(v - max)).ToArray();
                for (var k = 0; k < exp.Length; k++)
                    Assert.AreEqual(exp[k] / exp.Sum(), reply.Probabilities[r][k], 1e-6, $"row {r} class {k}: probabilities = softmax(logits)");
            }
            CollectionAssert.AreEqual(model.Config.Labels.ToArray(), JsonSerializer.Deserialize<string[]>(reply.Metadata["labels"]), "labels in the model's metadata");
        }
        using var check = PythonReference.RunScript("onnx_check.py", new { model = onnxPath });
        Assert.IsTrue(check.RootElement.GetProperty("ok").GetBoolean(), check.RootElement.ToString());
        return largest;
    }

    [TestMethod]
    [DataRow("roberta-tiny")]
    [DataRow("roberta-tiny-wide")]
    public void FixtureModelsRunInOnnxRuntimeWithTheSameLogits(string fixture)
    {
        var (model, _) = ModelFolder.Load(SharedData.RequirePath("fixtures", fixture));
        using var _ = model;
        var dir = Directory.CreateTempSubdirectory("lorenza-onnx-").FullName;
        try
        {
            var path = Path.Combine(dir, "model.onnx");
            ClassifierOnnxExporter.Export(model, path);
            CheckAgainstOnnxRuntime(model, path, 1e-4);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [TestMethod]
    public void BertExportsWithTokenTypesAndRunsInOnnxRuntime()
    {
        var dir = Directory.CreateTempSubdirectory("lorenza-onnx-bert-").FullName;
        try
        {
            var folder = Path.Combine(dir, "tiny-bert");
            BertFixture.WriteTiny(folder, labels: 3);
            using var classifier = TextClassifier.Load(folder, precision: ComputePrecision.None); // compared with ONNX Runtime in float32
            var path = Path.Combine(dir, "export", "bert.onnx");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            ClassifierOnnxExporter.ExportFolder(classifier.Model, path, classifier.Tokenizer);
            foreach (var file in new[] { "labels.json", "vocab.txt", "tokenizer_config.json" })
                Assert.IsTrue(File.Exists(Path.Combine(dir, "export", file)), $"{file} beside the model");
            CollectionAssert.AreEqual(new[] { "input_ids", "attention_mask", "token_type_ids" }, ClassifierOnnxExporter.InputNames(classifier.Model).ToArray());
            var tiny = CheckAgainstOnnxRuntime(classifier.Model, path, 1e-4);

            // The reference BERT's larger random weights (needs Debian's PyTorch to write it).
            var (reference, _) = ModelFolder.Load(BertFixture.Reference);
            using var _ = reference;
            var referencePath = Path.Combine(dir, "reference.onnx");
            ClassifierOnnxExporter.Export(reference, referencePath);
            var larger = CheckAgainstOnnxRuntime(reference, referencePath, 1e-4);
            Console.WriteLine($"BERT ONNX vs engine, max abs logit difference: tiny {tiny:E2}, reference fixture {larger:E2}");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [TestMethod]
    public void FreshlyTrainedModelExportsWithTokenizerAndLabels()
    {
        var examples = Enumerable.Range(0, 64).Select(i => new TextExample(i % 2 == 0 ? $"good great fine {i}" : $"bad awful poor {i}", null, i % 2 == 0 ? "pos" : "neg"));
        var (classifier, _) = TextClassifierTrainer.Train(TextDataset.FromExamples(examples), null,
            new TrainingOptions { Model = { Preset = ModelPreset.Tiny, TokenizerMerges = 50 }, Optimizer = { LearningRate = 1e-3, Rank = 4 }, Loop = { Epochs = 1, MaxSteps = 4, BatchSize = 16 }, Compute = { Device = "cpu", Precision = ComputePrecision.None } }); // float32: compared with ONNX Runtime
        using var _ = classifier;
        var dir = Directory.CreateTempSubdirectory("lorenza-onnx-").FullName;
        try
        {
            var path = Path.Combine(dir, "classifier.onnx");
            ClassifierOnnxExporter.ExportFolder(classifier.Model, path, classifier.Tokenizer);
            CollectionAssert.AreEqual(new[] { "neg", "pos" }, JsonSerializer.Deserialize<string[]>(File.ReadAllText(Path.Combine(dir, "labels.json"))));
            Assert.IsTrue(File.Exists(Path.Combine(dir, "vocab.json")) && File.Exists(Path.Combine(dir, "merges.txt")), "tokenizer files beside the model");
            CheckAgainstOnnxRuntime(classifier.Model, path, 1e-4);

            var half = Path.Combine(dir, "classifier-f16.onnx");
            ClassifierOnnxExporter.Export(classifier.Model, half, new OnnxExportOptions { Float16Weights = true });
            Assert.IsTrue(new FileInfo(half).Length < 0.6 * new FileInfo(path).Length, "float16 weights halve the file");
            CheckAgainstOnnxRuntime(classifier.Model, half, 1e-3); // weights rounded to 11-bit mantissas (this small model: ~1e-5 seen)
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [TestMethod]
    public void ExportToAStream_WritesTheSameBytesAsToAFile()
    {
        using var model = RobertaForSequenceClassification.Create(RobertaConfig.Tiny(100, 3), 2);
        var path = Path.Combine(Path.GetTempPath(), $"lorenza-stream-{Guid.NewGuid():N}.onnx");
        try
        {
            ClassifierOnnxExporter.Export(model, path);
            using var stream = new MemoryStream();
            stream.Write([1, 2, 3]); // written at the stream's position, the stream stays open
            ClassifierOnnxExporter.Export(model, stream);
            var file = File.ReadAllBytes(path);
            Assert.IsTrue(file.Length > 10_000);
            CollectionAssert.AreEqual(new byte[] { 1, 2, 3 }.Concat(file).ToArray(), stream.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void BadExportsFailClearlyAndLeaveNoFile()
    {
        using var model = RobertaForSequenceClassification.Create(RobertaConfig.Tiny(100, 2), 1);
        var dir = Directory.CreateTempSubdirectory("lorenza-onnx-").FullName;
        try
        {
            var path = Path.Combine(dir, "m.onnx");
            var opset = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ClassifierOnnxExporter.Export(model, path, new OnnxExportOptions { Opset = 13 }));
            StringAssert.Contains(opset.Message, "Opset 13");

            using (torch.no_grad()) model.classifier.dense.weight.fill_(double.NaN);
            StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => ClassifierOnnxExporter.Export(model, path)).Message, "classifier.dense.weight");

            using var fine = RobertaForSequenceClassification.Create(RobertaConfig.Tiny(100, 2), 1);
            var notAFolder = Path.Combine(dir, "file");
            File.WriteAllText(notAFolder, "x");
            var unwritable = Assert.Throws<IOException>(() => ClassifierOnnxExporter.Export(fine, Path.Combine(notAFolder, "m.onnx")));
            StringAssert.Contains(unwritable.Message, notAFolder);
            File.Delete(notAFolder);
            Assert.AreEqual(0, Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Length, "no partial or temporary file left");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
