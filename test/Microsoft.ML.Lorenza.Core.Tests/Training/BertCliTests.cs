using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Training;

/// <summary>The `lorenza` CLI on a BERT folder: train --model (sentence pairs), evaluate, predict --pairs, export.</summary>
[TestClass]
public sealed class BertCliTests
{
    [TestMethod]
    public void TrainEvaluatePredictAndExportABertClassifier()
    {
        var folder = Directory.CreateTempSubdirectory("lorenza-cli-bert-").FullName;
        try
        {
            var pretrained = Path.Combine(folder, "tiny-bert");
            BertFixture.WriteTiny(pretrained, labels: 2, maxLength: 32);
            var data = Path.Combine(folder, "pairs.tsv");
            File.WriteAllLines(data, ["first\tsecond\tlabel", .. Enumerable.Range(0, 40).Select(i =>
                i % 2 == 0 ? $"a good film {i % 5}\tgreat fun\tpos" : $"a bad film {i % 5}\tvery dull\tneg")]);
            var model = Path.Combine(folder, "model");

            var (code, stdout, stderr) = Cli.Run($"train \"{data}\" --model \"{pretrained}\" --text-col first --text2-col second --label-col label " +
                                                 $"--optimizer lorenza --rank 4 --max-steps 4 --batch-size 8 --max-length 32 --seed 1 --device cpu -o \"{model}\"");
            Assert.AreEqual(0, code, stderr + stdout);
            Assert.IsTrue(File.Exists(Path.Combine(model, "vocab.txt")) && !File.Exists(Path.Combine(model, "vocab.json")), "a BERT folder");

            (code, stdout, stderr) = Cli.Run($"evaluate \"{data}\" --model \"{model}\" --text-col first --text2-col second --label-col label --device cpu");
            Assert.AreEqual(0, code, stderr);
            StringAssert.Contains(stdout, "40 examples");

            (code, stdout, stderr) = Cli.Run($"predict --model \"{model}\" --pairs --device cpu", "a good film\tgreat fun\na bad film\tvery dull\n");
            Assert.AreEqual(0, code, stderr);
            var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.AreEqual(3, lines.Length, stdout);
            StringAssert.StartsWith(lines[0], "label\tp(neg)\tp(pos)");
            (code, _, stderr) = Cli.Run($"predict --model \"{model}\" --pairs --device cpu", "no tab here\n");
            Assert.AreNotEqual(0, code);
            StringAssert.Contains(stderr, "has no tab");

            var onnx = Path.Combine(folder, "export", "model.onnx");
            (code, stdout, stderr) = Cli.Run($"export --model \"{model}\" --onnx \"{onnx}\"");
            Assert.AreEqual(0, code, stderr);
            StringAssert.Contains(stdout, "vocab.txt and tokenizer_config.json beside it");
            Assert.IsTrue(File.Exists(onnx) && File.Exists(Path.Combine(folder, "export", "vocab.txt")));
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }
}
