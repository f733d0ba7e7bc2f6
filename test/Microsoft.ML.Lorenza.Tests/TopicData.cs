using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.MLNet.Tests;

/// <summary>A row for LoadFromEnumerable tests: a topic label (string and number) and one or two texts.</summary>
public sealed class TopicRow
{
    public string Label { get; set; } = "";
    public int LabelNumber { get; set; }
    public string Sentence1 { get; set; } = "";
    public string Sentence2 { get; set; } = "";
    public float Length { get; set; }
}

/// <summary>Seeded synthetic topic sentences (sports, tech, food): easy for a tiny model to separate in a few epochs.</summary>
public static class TopicData
{
    public static readonly string[] Topics = ["sports", "tech", "food"];

    private static readonly string[][] Words =
    [
        ["goal", "match", "team", "coach", "league", "score", "player", "stadium"],
        ["software", "laptop", "chip", "server", "code", "network", "app", "battery"],
        ["pasta", "bread", "soup", "chef", "recipe", "cheese", "kitchen", "dinner"],
    ];

    private static readonly string[] Fillers = ["the", "a", "new", "today", "with", "about", "great", "was", "our", "this"];

    public static List<TopicRow> Rows(int count, int seed)
    {
        var random = new Random(seed);
        string Sentence(int topic) => string.Join(' ', Enumerable.Range(0, random.Next(6, 11))
            .Select(i => i % 2 == 0 ? Words[topic][random.Next(Words[topic].Length)] : Fillers[random.Next(Fillers.Length)]));
        return Enumerable.Range(0, count).Select(i =>
        {
            var topic = i % Topics.Length;
            var text = Sentence(topic);
            return new TopicRow { Label = Topics[topic], LabelNumber = 10 + topic, Sentence1 = text, Sentence2 = Sentence(topic), Length = text.Length };
        }).ToList();
    }

    public static LorenzaTrainer.Options Options(int epochs = 3) => new()
    {
        Architecture = ModelPreset.Tiny, // from scratch: the tests train many small models
        MaxEpochs = epochs,
        BatchSize = 16,
        LearningRate = 3e-3,
        RefreshInterval = 20,
        MaxSequenceLength = 32,
        Device = "cpu",
        Precision = ComputePrecision.None, // float32: the tests compare with ONNX Runtime and pin accuracies (bf16: PrecisionAutoTests)
        Seed = 3,
        ValidationFraction = 0, // the tests' small sets train on every row (the default holds 10 % out)
    };
}
