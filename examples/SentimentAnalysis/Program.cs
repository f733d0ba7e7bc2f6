using SentimentAnalysis;

// Usage: dotnet run [-- --epochs N] [--output folder] [--model minilm|FOLDER] [--from-scratch]
var epochs = args.SkipWhile(a => a != "--epochs").Skip(1).Select(int.Parse).FirstOrDefault(3);
SentimentModel.PretrainedModel = args.Contains("--from-scratch") ? null : args.SkipWhile(a => a != "--model").Skip(1).FirstOrDefault("minilm");
var output = args.SkipWhile(a => a != "--output").Skip(1).FirstOrDefault(".");
Directory.CreateDirectory(output);
SentimentModel.MLNetModelPath = Path.GetFullPath(Path.Combine(output, "SentimentModel.mlnet"));

SentimentModel.Train(SentimentModel.MLNetModelPath, Path.Combine(AppContext.BaseDirectory, SentimentModel.RetrainFilePath), epochs);
Console.WriteLine($"model: {SentimentModel.MLNetModelPath}");

foreach (var sentence in new[] { "the acting is genuinely brilliant", "the plot is dull but the ending is moving", "frankly, the script is utterly tedious" })
{
    var input = new SentimentModel.ModelInput { Sentence = sentence };
    var result = SentimentModel.Predict(input);
    var scores = string.Join(", ", SentimentModel.GetSortedScoresWithLabels(result).Select(p => $"{(p.Key == "1" ? "positive" : "negative")} {p.Value:P1}"));
    Console.WriteLine($"{sentence} → {(result.PredictedLabel == 1 ? "positive" : "negative")} ({scores})");
}
