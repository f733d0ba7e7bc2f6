using System.Diagnostics;
using Microsoft.ML.Lorenza.Configuration;
using Microsoft.ML.Lorenza.Datasets;
using Microsoft.ML.Lorenza.Inference;
using Microsoft.ML.Lorenza.Runtime;
using Microsoft.ML.Lorenza.Training;

namespace Microsoft.ML.Lorenza.Benchmarks.Serving;

/// <summary>
/// Scoring throughput as a server sees it (issue #28): one <see cref="TextClassifier"/> shared by 1 and by 8 caller
/// threads, one text per call, against one thread scoring batches of 64. Modes alternate within each round and the
/// median round counts. The model is --model DIR, else MiniLM with a head trained for two steps (throughput does not
/// depend on the weights). Texts: SST-2's dev set when ../shared is there, else the sample reviews.
/// </summary>
public sealed class ScoringThreadsBenchmark : IBenchmark
{
    public string Name => "scoring-threads";
    public string Description => "texts/s of one shared TextClassifier from 1 and 8 caller threads (one text per call) and batched (--model DIR, --threads N, --rounds N)";

    public void Run(BenchmarkContext context)
    {
        var sst2 = BenchmarkContext.Sst2DevSentences();
        var texts = sst2 ?? BenchmarkContext.SampleReviews().Examples.Select(e => e.Text).ToList();
        var textsName = sst2 is null ? "sample reviews" : "SST-2 dev sentences";
        var callers = context.Int("--threads", 8);
        var rounds = context.Int("--rounds", context.Quick ? 1 : 3);
        if (context.Quick) texts = texts.Take(64).ToList();
        using var classifier = LoadOrMake(context.Value("--model", ""));
        var reference = classifier.PredictProbabilities(texts);

        var modes = new (string Name, Func<float[][]> Score)[]
        {
            ("1 thread, one text per call", () => texts.Select(t => classifier.Predict(t).Probabilities).ToArray()),
            ($"{callers} threads, one text per call", () => FromThreads(classifier, texts, callers)),
            ("1 thread, batches of 64", () => classifier.PredictProbabilities(texts)),
        };
        var seconds = modes.ToDictionary(m => m.Name, _ => new List<double>());
        for (var round = 0; round < rounds; round++)
            foreach (var (name, score) in round % 2 == 0 ? modes : modes.Reverse())
            {
                var watch = Stopwatch.StartNew();
                var probabilities = score();
                seconds[name].Add(watch.Elapsed.TotalSeconds);
                if (!SameLabels(reference, probabilities)) throw new InvalidOperationException($"{name}: labels differ from the batched scores.");
            }

        var single = texts.Count / BenchmarkContext.Median(seconds[modes[0].Name]);
        var table = new List<string[]> { new[] { "mode", "texts/s", "vs 1 thread" } };
        var rows = new List<object>();
        foreach (var (name, _) in modes)
        {
            var rate = texts.Count / BenchmarkContext.Median(seconds[name]);
            table.Add([name, $"{rate:F0}", $"{rate / single:F2}×"]);
            rows.Add(new { mode = name, texts_per_s = rate, ratio_to_one_thread = rate / single, seconds = seconds[name] });
        }
        BenchmarkContext.PrintTable(table);
        var setting = $"{texts.Count} {textsName}; {rounds} round(s), median; {Environment.ProcessorCount} cores, {TorchRuntime.NumThreads} intra-op threads; compute {classifier.Compute}";
        Console.WriteLine(setting);
        context.Save(new { setting, rows });
    }

    private static float[][] FromThreads(TextClassifier classifier, List<string> texts, int callers)
    {
        var results = new float[texts.Count][];
        var next = -1;
        var threads = Enumerable.Range(0, callers).Select(_ => new Thread(() =>
        {
            for (var i = Interlocked.Increment(ref next); i < texts.Count; i = Interlocked.Increment(ref next))
                results[i] = classifier.Predict(texts[i]).Probabilities;
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        return results;
    }

    private static bool SameLabels(float[][] a, float[][] b) =>
        a.Zip(b).All(p => Array.IndexOf(p.First, p.First.Max()) == Array.IndexOf(p.Second, p.Second.Max()));

    private static TextClassifier LoadOrMake(string folder)
    {
        if (folder.Length > 0) return TextClassifier.Load(folder);
        Console.WriteLine("no --model: MiniLM with a head trained for two steps on the sample reviews");
        var reviews = TextDataset.FromExamples(BenchmarkContext.SampleReviews().Examples.Take(64), "sample reviews");
        var options = new TrainingOptions
        {
            Model = { PretrainedModelPath = Pretrained.PretrainedModels.Resolve("minilm", new() { Log = Console.WriteLine }) },
            Loop = { Epochs = 1, BatchSize = 16, MaxSteps = 2 },
        };
        return TextClassifierTrainer.Train(reviews, null, options).Classifier;
    }
}
