using Microsoft.ML;
using Microsoft.ML.Data;

namespace GitHubIssueArea;

public partial class IssueAreaModel
{
    /// <summary>One issue of the data file.</summary>
    public class ModelInput
    {
        [LoadColumn(0)]
        [ColumnName("ID")]
        public string ID { get; set; }

        [LoadColumn(1)]
        [ColumnName("Area")]
        public string Area { get; set; }

        [LoadColumn(2)]
        [ColumnName("Title")]
        public string Title { get; set; }

        [LoadColumn(3)]
        [ColumnName("Description")]
        public string Description { get; set; }
    }

    /// <summary>The predicted area and one probability per area.</summary>
    public class ModelOutput
    {
        [ColumnName("Title")]
        public string Title { get; set; }

        [ColumnName("PredictedLabel")]
        public string PredictedLabel { get; set; }

        [ColumnName("Score")]
        public float[] Score { get; set; }
    }

    /// <summary>Where <see cref="Train"/> writes the model and <see cref="Predict"/> reads it.</summary>
    public static string MLNetModelPath { get; set; } = Path.GetFullPath("IssueAreaModel.mlnet");

    public static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> PredictEngine = new(CreatePredictEngine, true);

    /// <summary>Predicts the area of one issue.</summary>
    public static ModelOutput Predict(ModelInput input) => PredictEngine.Value.Predict(input);

    /// <summary>Every area with its probability, most likely first.</summary>
    public static IOrderedEnumerable<KeyValuePair<string, float>> PredictAllLabels(ModelInput input) =>
        GetSortedScoresWithLabels(PredictEngine.Value.Predict(input));

    /// <summary>Pairs each probability in <see cref="ModelOutput.Score"/> with its area (the Score column's slot names).</summary>
    public static IOrderedEnumerable<KeyValuePair<string, float>> GetSortedScoresWithLabels(ModelOutput result)
    {
        var areas = new VBuffer<ReadOnlyMemory<char>>();
        PredictEngine.Value.OutputSchema["Score"].GetSlotNames(ref areas);
        return areas.DenseValues().Select(a => a.ToString())
            .Zip(result.Score, (area, score) => new KeyValuePair<string, float>(area, score))
            .OrderByDescending(p => p.Value);
    }

    private static PredictionEngine<ModelInput, ModelOutput> CreatePredictEngine()
    {
        var mlContext = new MLContext();
        var model = mlContext.Model.LoadLorenzaModel(MLNetModelPath, out _);
        return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model);
    }
}
