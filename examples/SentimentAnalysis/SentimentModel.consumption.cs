using Microsoft.ML;
using Microsoft.ML.Data;

namespace SentimentAnalysis;

public partial class SentimentModel
{
    /// <summary>One row of the data file: a sentence and its label (1 = positive, 0 = negative).</summary>
    public class ModelInput
    {
        [LoadColumn(0)]
        [ColumnName("Sentence")]
        public string Sentence { get; set; }

        [LoadColumn(1)]
        [ColumnName("Label")]
        public int Label { get; set; }
    }

    /// <summary>What the model adds: the predicted label and one probability per label.</summary>
    public class ModelOutput
    {
        [ColumnName("Sentence")]
        public string Sentence { get; set; }

        [ColumnName("PredictedLabel")]
        public int PredictedLabel { get; set; }

        [ColumnName("Score")]
        public float[] Score { get; set; }
    }

    /// <summary>Where <see cref="Train"/> writes the model and <see cref="Predict"/> reads it.</summary>
    public static string MLNetModelPath { get; set; } = Path.GetFullPath("SentimentModel.mlnet");

    public static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> PredictEngine = new(CreatePredictEngine, true);

    /// <summary>Predicts the label of one sentence.</summary>
    public static ModelOutput Predict(ModelInput input) => PredictEngine.Value.Predict(input);

    /// <summary>Every label with its probability, most likely first.</summary>
    public static IOrderedEnumerable<KeyValuePair<string, float>> PredictAllLabels(ModelInput input) =>
        GetSortedScoresWithLabels(PredictEngine.Value.Predict(input));

    /// <summary>Pairs each probability in <see cref="ModelOutput.Score"/> with its label (the Score column's slot names).</summary>
    public static IOrderedEnumerable<KeyValuePair<string, float>> GetSortedScoresWithLabels(ModelOutput result)
    {
        var slotNames = new VBuffer<ReadOnlyMemory<char>>();
        PredictEngine.Value.OutputSchema["Score"].GetSlotNames(ref slotNames);
        return slotNames.DenseValues().Select(n => n.ToString())
            .Zip(result.Score, (label, score) => new KeyValuePair<string, float>(label, score))
            .OrderByDescending(p => p.Value);
    }

    private static PredictionEngine<ModelInput, ModelOutput> CreatePredictEngine()
    {
        var mlContext = new MLContext();
        var model = mlContext.Model.LoadLorenzaModel(MLNetModelPath, out _);
        return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model);
    }
}
