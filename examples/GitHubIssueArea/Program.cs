using GitHubIssueArea;

string Value(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine("""
        Fine-tunes a GitHub issue area classifier (title + description → area) on Data/issues.tsv with LORENZA in an ML.NET pipeline,
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
IssueAreaModel.PretrainedModel = args.Contains("--from-scratch") ? null : Value("--model") ?? "minilm";
var output = Value("--output") ?? ".";
Directory.CreateDirectory(output);
IssueAreaModel.MLNetModelPath = Path.GetFullPath(Path.Combine(output, "IssueAreaModel.mlnet"));

IssueAreaModel.Train(IssueAreaModel.MLNetModelPath, Path.Combine(AppContext.BaseDirectory, IssueAreaModel.RetrainFilePath), epochs);
Console.WriteLine($"model: {IssueAreaModel.MLNetModelPath}");

var issues = new[]
{
    ("Exported model gives different outputs", "The ONNX export gives different outputs in release mode."),
    ("Tutorial has a broken link", "The getting started page has a broken link after upgrading."),
    ("Loss is NaN after a few steps", "The optimizer diverges on a large data set."),
};
foreach (var (title, description) in issues)
{
    var input = new IssueAreaModel.ModelInput { Title = title, Description = description };
    var result = IssueAreaModel.Predict(input);
    var top = IssueAreaModel.GetSortedScoresWithLabels(result).First();
    Console.WriteLine($"{title} → {result.PredictedLabel} ({top.Value:P1})");
}
return 0;
