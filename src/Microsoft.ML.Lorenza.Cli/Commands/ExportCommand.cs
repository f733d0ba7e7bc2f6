using System.CommandLine;
using Microsoft.ML.Lorenza.Onnx;
using Microsoft.ML.Lorenza.Training;
using Microsoft.ML.Lorenza.Inference;

namespace Microsoft.ML.Lorenza.Cli.Commands;

/// <summary>`lorenza export`: a saved model folder to ONNX, with labels.json and the tokenizer files beside it.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "model folder written by `lorenza train`", Required = true };
        var onnx = new Option<string>("--onnx") { Description = "the .onnx file to write", Required = true };
        var float16 = new Option<bool>("--float16") { Description = "store weights as float16 (half the size; computation stays float32)" };
        var opset = new Option<int>("--opset") { Description = "ONNX opset (17 or later)", DefaultValueFactory = _ => 17 };
        var command = new Command("export", "Export a trained classifier to ONNX (inputs input_ids, attention_mask, and token_type_ids for BERT; outputs logits, probabilities).");
        foreach (var option in new Option[] { model, onnx, float16, opset }) command.Options.Add(option);
        command.SetAction(r => CommandErrors.Run(() =>
        {
            using var classifier = TextClassifier.Load(r.GetValue(model)!);
            var path = r.GetValue(onnx)!;
            ClassifierOnnxExporter.ExportFolder(classifier.Model, path, classifier.Tokenizer,
                new OnnxExportOptions { Float16Weights = r.GetValue(float16), Opset = r.GetValue(opset) });
            Console.WriteLine($"wrote {Path.GetFullPath(path)} ({new FileInfo(path).Length / 1024.0:F0} KiB) with labels.json, {string.Join(" and ", classifier.Tokenizer.FileNames)} beside it");
            return 0;
        }));
        return command;
    }
}
