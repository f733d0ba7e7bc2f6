using SentimentAnalysis;

string Value(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine("""
        Fine-tunes a sentiment classifier (positive / negative) on Data/sentiment.tsv with LORENZA in an ML.NET pipeline,
        prints its test accuracy, saves the model and its ONNX export, and classifies a few examples.

        Usage: dotnet run [-- [--epochs N] [--output FOLDER] [--model NAME] [--from-scratch]]
          --epochs N        passes over the training data (default 3)
          --output FOLDER   where the model files go (default: the current folder)
          --model NAME      the pretrained model: minilm (default), a Hugging Face hub id such as FacebookAI/roberta-base, or a model folder
          --from-scratch    train a tiny RoBERTa from random weights instead (needs more epochs, e.g. --epochs 10)
        """);
    return 0;
}
var known = new[] { "--epochs", "--output", "--model", "--from-scratch" };
if (args.FirstOrDefault(a => a.StartsWith("--") && !known.Contains(a)) is { } unknown)
{
    Console.Error.WriteLine($"error: unknown option {unknown}; run with --help for the options.");
    return 2;
}
if (!int.TryParse(Value("--epochs") ?? "3", out var epochs) || epochs < 1)
{
    Console.Error.WriteLine($"error: --epochs {Value("--epochs")} is not a whole number >= 1.");
    return 2;
}
SentimentModel.PretrainedModel = args.Contains("--from-scratch") ? null : Value("--model") ?? "minilm";
var output = Value("--output") ?? ".";
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
return 0;
