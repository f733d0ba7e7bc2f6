using System.Text.Json;
using Microsoft.ML.Data;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using static Microsoft.ML.Lorenza.MLNet.Tests.SentimentPipeline;

namespace Microsoft.ML.Lorenza.MLNet.Tests;

[TestClass]
public sealed class PersistenceTests
{
    private static string TempFile(string extension) => Path.Combine(Path.GetTempPath(), $"lorenza-test-{Guid.NewGuid():N}{extension}");

    [TestMethod]
    public void SaveLorenzaModel_ThenLoad_GivesTheSamePredictionsAndSchema()
    {
        var path = TempFile(".zip");
        try
        {
            Context.Model.SaveLorenzaModel(Trained, Train.Schema, path);
            var fresh = new MLContext(seed: 7);
            var loaded = fresh.Model.LoadLorenzaModel(path, out var inputSchema, device: "cpu");
            try
            {
                CollectionAssert.AreEqual(Train.Schema.Select(c => $"{c.Name}:{c.Type}").ToArray(), inputSchema.Select(c => $"{c.Name}:{c.Type}").ToArray());
                var before = Scores(Context, Trained);
                var after = Scores(fresh, loaded);
                Assert.AreEqual(before.Count, after.Count);
                for (var i = 0; i < before.Count; i++)
                {
                    Assert.AreEqual(before[i].Prediction, after[i].Prediction, $"row {i}");
                    for (var k = 0; k < 2; k++) Assert.AreEqual(before[i].Score[k], after[i].Score[k], 1e-6f, $"row {i} class {k}");
                }
                // The loaded pipeline still works in a PredictionEngine and evaluates.
                var engine = fresh.Model.CreatePredictionEngine<Review, ReviewPrediction>(loaded);
                Assert.AreEqual(before[0].Prediction, engine.Predict(fresh.Data.CreateEnumerable<Review>(Test, false).First()).Prediction);
                Assert.AreEqual(3, ((IEnumerable<ITransformer>)loaded).Count(), "the chain keeps its three transformers");
            }
            finally
            {
                foreach (var t in ((IEnumerable<ITransformer>)loaded).OfType<IDisposable>()) t.Dispose();
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void ModelSave_OfAPipelineWithLorenza_FailsWithTheWayToSaveIt()
    {
        var path = TempFile(".zip");
        var error = Assert.Throws<Exception>(() => Context.Model.Save(Trained, Train.Schema, path));
        var messages = string.Join(" | ", Chain(error).Select(e => e.Message));
        StringAssert.Contains(messages, "SaveLorenzaModel");
        Assert.IsTrue(Chain(error).Any(e => e is NotSupportedException), messages);
    }

    [TestMethod]
    public void TransformerSave_ThenLoad_KeepsLabelsColumnsAndScores()
    {
        var path = TempFile(".zip");
        try
        {
            Classifier.Save(path);
            using var loaded = LorenzaTransformer.Load(path, "cpu");
            CollectionAssert.AreEqual(Classifier.Labels.ToArray(), loaded.Labels.ToArray());
            Assert.AreEqual(Classifier.Columns, loaded.Columns);
            Assert.IsNull(loaded.TrainingReport);
            var keyed = Context.Transforms.Conversion.MapValueToKey("Label").Fit(Train).Transform(Test);
            var a = Context.Data.CreateEnumerable<KeyedScore>(Classifier.Transform(keyed), false).ToList();
            var b = Context.Data.CreateEnumerable<KeyedScore>(loaded.Transform(keyed), false).ToList();
            for (var i = 0; i < a.Count; i++)
            {
                Assert.AreEqual(a[i].PredictedLabel, b[i].PredictedLabel);
                CollectionAssert.AreEqual(a[i].Score, b[i].Score);
            }
            // PredictedLabel's KeyValues survive, so MapKeyToValue after a loaded transformer still gives strings.
            var mapped = Context.Transforms.Conversion.MapKeyToValue("PredictedLabel").Fit(loaded.Transform(keyed)).Transform(loaded.Transform(keyed));
            Assert.AreEqual(TextDataViewType.Instance, mapped.Schema["PredictedLabel"].Type);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void Load_OfFilesItDidNotWrite_NamesTheFileAndTheRightLoader()
    {
        var notZip = TempFile(".zip");
        var mlnetOnly = TempFile(".zip");
        try
        {
            File.WriteAllText(notZip, "not a model");
            var e1 = Assert.ThrowsExactly<InvalidDataException>(() => LorenzaTransformer.Load(notZip));
            StringAssert.Contains(e1.Message, notZip);
            var e2 = Assert.ThrowsExactly<InvalidDataException>(() => Context.Model.LoadLorenzaModel(notZip, out _));
            StringAssert.Contains(e2.Message, notZip);

            var keyOnly = Context.Transforms.Conversion.MapValueToKey("Label").Fit(Train);
            Context.Model.Save(keyOnly, Train.Schema, mlnetOnly);
            var e3 = Assert.ThrowsExactly<InvalidDataException>(() => Context.Model.LoadLorenzaModel(mlnetOnly, out _));
            StringAssert.Contains(e3.Message, "mlContext.Model.Load");
            var e4 = Assert.ThrowsExactly<InvalidDataException>(() => LorenzaTransformer.Load(mlnetOnly));
            StringAssert.Contains(e4.Message, "not a LorenzaTransformer file");
            Assert.ThrowsExactly<FileNotFoundException>(() => LorenzaTransformer.Load(notZip + ".missing"));
        }
        finally
        {
            File.Delete(notZip);
            File.Delete(mlnetOnly);
        }
    }

    [TestMethod]
    public void Load_OfAnEntryThatWouldLeaveItsFolder_IsRefused()
    {
        // A zip made on Unix may name "..\x": one file name on Linux, a way out of the folder on Windows. Every entry of the
        // model folder must be a plain file name, and is refused (nothing extracted) otherwise, on every platform.
        foreach (var name in new[] { "..\\escaped.txt", "C:escaped.txt", "sub/escaped.txt", "..", "config.json:stream" })
        {
            var path = TempFile(".zip");
            try
            {
                using (var zip = new System.IO.Compression.ZipArchive(File.Create(path), System.IO.Compression.ZipArchiveMode.Create))
                {
                    using (var header = new StreamWriter(zip.CreateEntry("mlnet.json").Open()))
                        header.Write("""{"format": "lorenza-mlnet-transformer/1", "columns": {}, "label_keys": {}}""");
                    using (var entry = new StreamWriter(zip.CreateEntry("model/" + name).Open())) entry.Write("escaped");
                }
                var e = Assert.ThrowsExactly<InvalidDataException>(() => LorenzaTransformer.Load(path), name);
                Assert.AreEqual($"{path} has the entry 'model/{name}', which would be written outside the folder it is read into; refusing it " +
                                "(the file is damaged or was not written by LORENZA).", e.Message);
                Assert.IsFalse(File.Exists(Path.Combine(Path.GetTempPath(), "escaped.txt")), name);
            }
            finally
            {
                File.Delete(path);
            }
        }
    }

    [TestMethod]
    public void ExportToOnnx_RunsInOnnxRuntime_WithTheTransformersProbabilities()
    {
        var folder = Directory.CreateTempSubdirectory("lorenza-onnx-");
        try
        {
            var onnxPath = Path.Combine(folder.FullName, "model.onnx");
            Classifier.ExportToOnnx(onnxPath);
            using (var stream = new MemoryStream())
            {
                Classifier.ExportToOnnx(stream);
                CollectionAssert.AreEqual(File.ReadAllBytes(onnxPath), stream.ToArray(), "stream and file exports are the same model");
            }
            CollectionAssert.AreEqual(Classifier.Labels.ToArray(), JsonSerializer.Deserialize<string[]>(File.ReadAllText(Path.Combine(folder.FullName, "labels.json"))));
            Assert.IsTrue(File.Exists(Path.Combine(folder.FullName, "vocab.json")) && File.Exists(Path.Combine(folder.FullName, "merges.txt")));

            var texts = Context.Data.CreateEnumerable<Review>(Test, false).Take(6).Select(r => r.Text).ToList();
            var batch = Classifier.Model.Tokenizer.EncodeBatch(texts, null, Classifier.Model.MaxSequenceLength);
            long[][] Rows(long[] flat) => Enumerable.Range(0, batch.BatchSize).Select(i => flat.Skip(i * batch.SequenceLength).Take(batch.SequenceLength).ToArray()).ToArray();
            var reply = OnnxRuntimeReference.Run(onnxPath, Rows(batch.InputIds), Rows(batch.AttentionMask));
            var onnx = reply.Probabilities;
            CollectionAssert.AreEqual(Classifier.Labels.ToArray(), JsonSerializer.Deserialize<string[]>(reply.Metadata["labels"]), "labels in the model's metadata");

            var engine = Context.Model.CreatePredictionEngine<Review, ReviewPrediction>(Trained);
            var worst = texts.Select((t, i) => engine.Predict(new Review { Text = t }).Score.Zip(onnx[i], (a, b) => Math.Abs(a - b)).Max()).Max();
            Console.WriteLine($"max |ML.NET Score - ONNX Runtime probability| over {texts.Count} padded rows: {worst:E2}");
            Assert.IsTrue(worst <= 1e-4, $"difference {worst:E2}");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static List<ReviewPrediction> Scores(MLContext ml, ITransformer model) =>
        ml.Data.CreateEnumerable<ReviewPrediction>(model.Transform(ml.Data.TakeRows(Test, 100)), false).ToList();

    private static IEnumerable<Exception> Chain(Exception? e)
    {
        for (; e is not null; e = e.InnerException) yield return e;
    }

    private sealed class KeyedScore
    {
        public float[] Score { get; set; } = [];
        public uint PredictedLabel { get; set; }
    }
}
