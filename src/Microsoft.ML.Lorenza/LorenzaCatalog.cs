using Microsoft.ML.Data;
using Microsoft.ML.Lorenza;

namespace Microsoft.ML;

/// <summary>
/// <c>mlContext.MulticlassClassification.Trainers.Lorenza(...)</c>, and saving/loading pipelines that contain it.
/// In the <c>Microsoft.ML</c> namespace so that <c>using Microsoft.ML;</c> is all a user needs.
/// </summary>
public static class LorenzaCatalog
{
    /// <summary>
    /// Fine-tunes a RoBERTa (or, from a pretrained BERT folder, a BERT) text classifier with the LORENZA optimizer. The first seven parameters match
    /// ML.NET's <c>TextClassification</c> trainer in names and order, so switching is one word; the defaults are the engine's
    /// (<see cref="LorenzaTrainer.Options"/>), so maxEpochs is 3 where TextClassification's is 10.
    /// </summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="labelColumnName">Label column: a key type (use <c>MapValueToKey</c>).</param>
    /// <param name="scoreColumnName">Output: class probabilities in key order.</param>
    /// <param name="outputColumnName">Output: the predicted label, of the label's key type.</param>
    /// <param name="sentence1ColumnName">The text column.</param>
    /// <param name="sentence2ColumnName">A second text column for sentence pairs; null for single texts.</param>
    /// <param name="batchSize">Examples per optimizer step.</param>
    /// <param name="maxEpochs">Passes over the training data.</param>
    /// <param name="rank">Rank of the low-rank gradient subspace.</param>
    /// <param name="rho">SAM radius; 0 turns the sharpness-aware ascent off.</param>
    /// <param name="refreshInterval">Steps between subspace refreshes.</param>
    /// <param name="validationSet">Data to report validation metrics on after each epoch.</param>
    /// <param name="exampleWeightColumnName">A float (Single) column whose value scales each training example's loss (null: all 1), as ML.NET's trainers take it. Last, so the first seven parameters stay TextClassification's.</param>
    public static LorenzaTrainer Lorenza(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = "Label",
        string scoreColumnName = "Score",
        string outputColumnName = "PredictedLabel",
        string sentence1ColumnName = "Sentence1",
        string? sentence2ColumnName = null,
        int batchSize = 32,
        int maxEpochs = 3,
        int rank = 8,
        double rho = 0.05,
        int refreshInterval = 200,
        IDataView? validationSet = null,
        string? exampleWeightColumnName = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new LorenzaTrainer(new LorenzaTrainer.Options
        {
            LabelColumnName = labelColumnName,
            ScoreColumnName = scoreColumnName,
            PredictedLabelColumnName = outputColumnName,
            Sentence1ColumnName = sentence1ColumnName,
            Sentence2ColumnName = sentence2ColumnName,
            BatchSize = batchSize,
            MaxEpochs = maxEpochs,
            Rank = rank,
            Rho = rho,
            RefreshInterval = refreshInterval,
            ValidationSet = validationSet,
            ExampleWeightColumnName = exampleWeightColumnName,
        });
    }

    /// <summary>Fine-tunes a RoBERTa or BERT text classifier with every option of <see cref="LorenzaTrainer.Options"/>.</summary>
    public static LorenzaTrainer Lorenza(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, LorenzaTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new LorenzaTrainer(options);
    }

    /// <summary>
    /// Saves a fitted pipeline that contains LORENZA transformers to one zip file: ML.NET's own transformers
    /// through <c>mlContext.Model.Save</c>, LORENZA's beside them. Load it with <see cref="LoadLorenzaModel"/>.
    /// </summary>
    public static void SaveLorenzaModel(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema inputSchema, string filePath) =>
        LorenzaModelFile.Save(catalog, model, inputSchema, filePath);

    /// <summary>Loads a pipeline written by <see cref="SaveLorenzaModel"/>; <paramref name="device"/>: "auto", "cpu", "cuda" or "cuda:N".</summary>
    public static ITransformer LoadLorenzaModel(this ModelOperationsCatalog catalog, string filePath, out DataViewSchema inputSchema, string device = "auto") =>
        LorenzaModelFile.Load(catalog, filePath, out inputSchema, device);
}
