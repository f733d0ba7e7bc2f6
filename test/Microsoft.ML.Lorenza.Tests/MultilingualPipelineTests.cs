using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.ML.Lorenza.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.MLNet.Tests;

/// <summary>
/// The ML.NET pipeline on a tiny random XLM-RoBERTa (the committed multilingual SentencePiece model, written by the engine)
/// and reviews in seven languages other than English (French, German, Spanish, Russian, Chinese, Arabic, Hindi): it
/// learns the sentiment, saves and loads in the zip with the same scores, and its ONNX export scores like ML.NET in ONNX
/// Runtime.
/// </summary>
[TestClass]
public sealed class MultilingualPipelineTests
{
    private sealed class Review
    {
        public string Text { get; set; } = "";
        public string Label { get; set; } = "";
    }

    private sealed class Scored
    {
        public float[] Score { get; set; } = [];
        public string PredictedLabel { get; set; } = "";
    }

    private static List<Review> Reviews(int count, int seed) =>
        FamilyFixture.MultilingualReviews(count, seed).Select(r => new Review { Text = r.Text, Label = r.Label }).ToList();

    [TestMethod]
    public void TinyXlmRobertaLearnsNonEnglishSentiment_SavesLoadsAndExportsOnnx()
    {
        var folder = Directory.CreateTempSubdirectory("lorenza-mlnet-xlmr-");
        try
        {
            var pretrained = Path.Combine(folder.FullName, "tiny-xlmr");
            FamilyFixture.WriteTiny("xlm-roberta", pretrained, labels: 2, maxLength: 32);

            var ml = new MLContext(seed: 1);
            var log = new List<string>();
            var options = new LorenzaTrainer.Options
            {
                LabelColumnName = "Label", Sentence1ColumnName = nameof(Review.Text), PretrainedModelPath = pretrained,
                Optimizer = OptimizerAlgorithm.AdamW, LearningRate = 5e-3, MaxEpochs = 8, BatchSize = 16,
                MaxSequenceLength = 32, Device = "cpu", Precision = ComputePrecision.None, Seed = 3, ValidationFraction = 0, Log = log.Add,
            };
            var train = ml.Data.LoadFromEnumerable(Reviews(240, seed: 1));
            var test = ml.Data.LoadFromEnumerable(Reviews(80, seed: 2));
            var model = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.Lorenza(options))
                .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel")).Fit(train);
            var path = Path.Combine(folder.FullName, "model.zip");
            try
            {
                var lorenza = ((IEnumerable<ITransformer>)model).OfType<LorenzaTransformer>().Single();
                Assert.IsInstanceOfType<RobertaForSequenceClassification>(lorenza.Model.Model);
                Assert.AreEqual("xlm-roberta", lorenza.Model.Model.Config.ModelType);
                Assert.IsInstanceOfType<XlmRobertaTokenizer>(lorenza.Model.Tokenizer);
                var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
                Console.WriteLine($"tiny random XLM-RoBERTa, 240 reviews in 7 non-English languages, 8 epochs AdamW: held-out accuracy {metrics.MicroAccuracy:F3} on 80 (chance 0.5)");
                Assert.IsTrue(metrics.MicroAccuracy >= 0.8, $"accuracy {metrics.MicroAccuracy:F3}\n{string.Join("\n", log)}");

                ml.Model.SaveLorenzaModel(model, train.Schema, path);
                var loaded = ml.Model.LoadLorenzaModel(path, out _, device: "cpu");
                try
                {
                    Assert.IsInstanceOfType<XlmRobertaTokenizer>(((IEnumerable<ITransformer>)loaded).OfType<LorenzaTransformer>().Single().Model.Tokenizer);
                    var before = ml.Data.CreateEnumerable<Scored>(model.Transform(test), false).ToList();
                    var after = ml.Data.CreateEnumerable<Scored>(loaded.Transform(test), false).ToList();
                    for (var i = 0; i < before.Count; i++)
                    {
                        Assert.AreEqual(before[i].PredictedLabel, after[i].PredictedLabel, $"row {i}");
                        CollectionAssert.AreEqual(before[i].Score, after[i].Score, $"row {i}");
                    }
                }
                finally
                {
                    foreach (var t in ((IEnumerable<ITransformer>)loaded).OfType<IDisposable>()) t.Dispose();
                }

                var onnxPath = Path.Combine(folder.FullName, "onnx", "model.onnx");
                Directory.CreateDirectory(Path.GetDirectoryName(onnxPath)!);
                lorenza.ExportToOnnx(onnxPath);
                Assert.IsTrue(File.Exists(Path.Combine(folder.FullName, "onnx", "sentencepiece.bpe.model")), "the SentencePiece model beside the ONNX file");
                var rows = Reviews(8, seed: 4);
                var tokenizer = XlmRobertaTokenizer.FromFolder(Path.Combine(folder.FullName, "onnx")); // no libtorch needed to tokenize
                var batch = tokenizer.EncodeBatch(rows.Select(r => r.Text).ToList(), null, lorenza.Model.MaxSequenceLength);
                long[][] Rows(long[] flat) => Enumerable.Range(0, batch.BatchSize).Select(i => flat.Skip(i * batch.SequenceLength).Take(batch.SequenceLength).ToArray()).ToArray();
                var reply = OnnxRuntimeReference.Run(onnxPath, Rows(batch.InputIds), Rows(batch.AttentionMask));
                var scores = ml.Data.CreateEnumerable<Scored>(model.Transform(ml.Data.LoadFromEnumerable(rows)), false).ToList();
                var worst = scores.Select((s, i) => s.Score.Zip(reply.Probabilities[i], (a, b) => Math.Abs(a - b)).Max()).Max();
                Console.WriteLine($"max |ML.NET Score - ONNX Runtime probability| over {rows.Count} multilingual rows: {worst:E2}");
                Assert.IsTrue(worst <= 1e-4, $"difference {worst:E2}");
            }
            finally
            {
                foreach (var t in ((IEnumerable<ITransformer>)model).OfType<IDisposable>()) t.Dispose();
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
