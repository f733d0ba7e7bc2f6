using Microsoft.ML.Data;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.ML.Lorenza.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.MLNet.Tests;

/// <summary>
/// PretrainedModelPath pointing at a BERT folder (a tiny random BERT with a WordPiece vocab.txt, written by the engine):
/// the pipeline trains on sentence pairs, saves and loads in the zip with the same scores, and exports ONNX with
/// token_type_ids that ONNX Runtime scores like ML.NET.
/// </summary>
[TestClass]
public sealed class BertPipelineTests
{
    private sealed class Scored
    {
        public float[] Score { get; set; } = [];
        public string PredictedLabel { get; set; } = "";
    }

    [TestMethod]
    public void PretrainedBertFolder_TrainsOnPairs_SavesLoadsAndExportsOnnx()
    {
        var folder = Directory.CreateTempSubdirectory("lorenza-mlnet-bert-");
        try
        {
            var pretrained = Path.Combine(folder.FullName, "tiny-bert");
            var words = new[] { "goal", "match", "team", "coach", "league", "score", "player", "stadium", "software", "laptop", "chip", "server", "code",
                "network", "app", "battery", "pasta", "bread", "soup", "chef", "recipe", "cheese", "kitchen", "dinner", "new", "today", "with", "about", "our", "this" };
            BertFixture.WriteTiny(pretrained, labels: 3, maxLength: 64, extraWords: words);

            var ml = new MLContext(seed: 1);
            var log = new List<string>();
            var options = TopicData.Options(epochs: 4);
            (options.PretrainedModelPath, options.Architecture) = (pretrained, null);
            options.Sentence2ColumnName = nameof(TopicRow.Sentence2);
            options.Optimizer = OptimizerAlgorithm.AdamW;
            options.Log = log.Add;
            var train = ml.Data.LoadFromEnumerable(TopicData.Rows(240, seed: 1));
            var test = ml.Data.LoadFromEnumerable(TopicData.Rows(60, seed: 2));
            var model = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.Lorenza(options))
                .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel")).Fit(train);
            var path = Path.Combine(folder.FullName, "model.zip");
            try
            {
                var lorenza = ((IEnumerable<ITransformer>)model).OfType<LorenzaTransformer>().Single();
                Assert.IsInstanceOfType<BertForSequenceClassification>(lorenza.Model.Model);
                Assert.IsInstanceOfType<BertWordPieceTokenizer>(lorenza.Model.Tokenizer);
                var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
                // Seen: 0.667 (from random weights, 4 epochs); chance is 0.333.
                Console.WriteLine($"tiny random BERT, sentence pairs, 4 epochs AdamW: topic accuracy {metrics.MicroAccuracy:F3}");
                Assert.IsTrue(metrics.MicroAccuracy >= 0.5, $"accuracy {metrics.MicroAccuracy:F3}\n{string.Join("\n", log)}");

                ml.Model.SaveLorenzaModel(model, train.Schema, path);
                var loaded = ml.Model.LoadLorenzaModel(path, out _, device: "cpu");
                try
                {
                    Assert.IsInstanceOfType<BertForSequenceClassification>(((IEnumerable<ITransformer>)loaded).OfType<LorenzaTransformer>().Single().Model.Model);
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
                Assert.IsTrue(File.Exists(Path.Combine(folder.FullName, "onnx", "vocab.txt")), "the WordPiece vocabulary beside the model");
                var rows = ml.Data.CreateEnumerable<TopicRow>(test, false).Take(6).ToList();
                var batch = lorenza.Model.Tokenizer.EncodeBatch(rows.Select(r => r.Sentence1).ToList(), rows.Select(r => (string?)r.Sentence2).ToList(), lorenza.Model.MaxSequenceLength);
                long[][] Rows(long[] flat) => Enumerable.Range(0, batch.BatchSize).Select(i => flat.Skip(i * batch.SequenceLength).Take(batch.SequenceLength).ToArray()).ToArray();
                Assert.IsTrue(batch.TokenTypeIds.Any(t => t == 1), "pairs give token type 1");
                var reply = OnnxRuntimeReference.Run(onnxPath, Rows(batch.InputIds), Rows(batch.AttentionMask), Rows(batch.TokenTypeIds));
                var scores = ml.Data.CreateEnumerable<Scored>(model.Transform(ml.Data.LoadFromEnumerable(rows)), false).ToList();
                var worst = scores.Select((s, i) => s.Score.Zip(reply.Probabilities[i], (a, b) => Math.Abs(a - b)).Max()).Max();
                Console.WriteLine($"max |ML.NET Score - ONNX Runtime probability| over {rows.Count} BERT pair rows: {worst:E2}");
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
