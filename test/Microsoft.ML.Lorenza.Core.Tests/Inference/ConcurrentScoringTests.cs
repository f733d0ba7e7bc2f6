using Microsoft.ML.Lorenza.Inference;
using Microsoft.ML.Lorenza.Tests.Support;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Inference;

/// <summary>One loaded classifier serving several threads at once (an ASP.NET app): the same calls give the same numbers as one thread.</summary>
[TestClass]
public sealed class ConcurrentScoringTests
{
    [TestMethod]
    public void PredictFromEightThreadsAtOnce_GivesExactlyTheSerialResults()
    {
        var folder = Directory.CreateTempSubdirectory("lorenza-concurrent-").FullName;
        try
        {
            BertFixture.WriteTiny(folder, hidden: 32, layers: 2, maxLength: 64);
            using var classifier = TextClassifier.Load(folder);
            // Batches of one to eight texts of different lengths (padding differs), each scored as one call.
            var calls = Enumerable.Range(0, 64).Select(i => Enumerable.Range(0, 1 + i % 8)
                .Select(j => string.Join(' ', Enumerable.Repeat(i % 2 == 0 ? "good film" : "bad film", 1 + (i * 7 + j) % 9)) + $" {i}-{j}").ToList()).ToList();
            var serial = calls.Select(texts => classifier.PredictProbabilities(texts)).ToList();

            var concurrent = new float[calls.Count][][];
            using var start = new Barrier(8);
            var threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
            {
                start.SignalAndWait();
                for (var round = 0; round < 3; round++)
                    for (var i = t; i < calls.Count; i += 8) concurrent[i] = classifier.PredictProbabilities(calls[i]);
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());

            for (var i = 0; i < calls.Count; i++)
                for (var k = 0; k < calls[i].Count; k++)
                    CollectionAssert.AreEqual(serial[i][k], concurrent[i][k], $"call {i}, text {k}: '{calls[i][k]}'");
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }
}
