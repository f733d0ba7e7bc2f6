using GitHubIssueArea;

// Usage: dotnet run [-- --epochs N] [--output folder] [--model minilm|FOLDER] [--from-scratch]
var epochs = args.SkipWhile(a => a != "--epochs").Skip(1).Select(int.Parse).FirstOrDefault(3);
IssueAreaModel.PretrainedModel = args.Contains("--from-scratch") ? null : args.SkipWhile(a => a != "--model").Skip(1).FirstOrDefault("minilm");
var output = args.SkipWhile(a => a != "--output").Skip(1).FirstOrDefault(".");
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
