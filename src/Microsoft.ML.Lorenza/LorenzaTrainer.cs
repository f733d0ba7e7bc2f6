using System.Diagnostics;
using Microsoft.ML.Data;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Pretrained;
using Microsoft.ML.Lorenza.Training;
using Microsoft.ML.Lorenza.Datasets;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza;

/// <summary>
/// Fine-tunes a RoBERTa or BERT text classifier with LORENZA (or another optimizer of <see cref="OptimizerAlgorithm"/>).
/// Input: a key-typed label (<c>MapValueToKey</c>) and one or two text columns. Output: see <see cref="LorenzaTransformer"/>.
/// Create it with <c>mlContext.MulticlassClassification.Trainers.Lorenza(...)</c>.
/// </summary>
public sealed partial class LorenzaTrainer : IEstimator<LorenzaTransformer>
{
    private readonly Options options;

    internal LorenzaTrainer(Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.options = options;
        if (options.MaxEpochs < 1)
            throw new ArgumentOutOfRangeException(nameof(Options.MaxEpochs), options.MaxEpochs, $"MaxEpochs = {options.MaxEpochs} is invalid: it must be >= 1.");
        if (options.Architecture is null && options.PretrainedModelPath is { } model)
        {
            try { PretrainedModels.Classify(model); } // a folder, a built-in name or a hub id; nothing is fetched before Fit
            catch (DirectoryNotFoundException e) { throw new DirectoryNotFoundException($"PretrainedModelPath = '{model}': {e.Message.TrimEnd('.')}; or set Architecture instead to train from scratch.", e); }
        }
        ToTrainingOptions(options, labels: ["a", "b"]).Validate(); // bad numbers fail here, not after reading the data
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var label = InputColumns.Label(inputSchema, options.LabelColumnName);
        InputColumns.Text(inputSchema, options.Sentence1ColumnName, nameof(Options.Sentence1ColumnName));
        if (options.Sentence2ColumnName is { } pair) InputColumns.Text(inputSchema, pair, nameof(Options.Sentence2ColumnName));
        if (options.ExampleWeightColumnName is { } weight) InputColumns.Weight(inputSchema, weight);
        return OutputColumns.Shape(inputSchema, label, options.ScoreColumnName, options.PredictedLabelColumnName);
    }

    public LorenzaTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (IsEmpty(input)) // before the label's key count: MapValueToKey fitted on no rows makes a 1-key label
            throw new InvalidOperationException("The training data has no rows: nothing to train on.");
        var (labelColumn, keyType) = InputColumns.Label(input.Schema, options.LabelColumnName, "training data");
        var keys = LabelKeys.FromColumn(labelColumn, keyType);
        var train = ReadExamples(input, keys, "training data", options.ExampleWeightColumnName);
        var validation = options.ValidationSet is { } validationSet ? ReadExamples(validationSet, keys, "validation set", weightColumn: null) : null;
        var trainingOptions = ToTrainingOptions(options, keys.Names);
        if (validation is not null) trainingOptions.Data.ValidationFraction = 0;

        if (trainingOptions.Model.Pretrained is { } reference && PretrainedModels.Classify(reference) == PretrainedSource.BuiltIn && !PretrainedModels.IsCached(reference))
            Log($"fetching the pretrained model '{reference}' into {PretrainedModels.FolderOf(reference)} (once; set Architecture to train from scratch instead)");
        // Resolved once for this Fit (a built-in name converted, a hub id downloaded, with progress in the Log); the trainer uses it.
        if (trainingOptions.Model.ResolvePretrained(new() { Log = options.Log, CancellationToken = options.CancellationToken }) is { Source: not PretrainedSource.Folder } pretrained)
            Log($"pretrained model '{pretrained.Reference}': {pretrained.Folder}" + (pretrained.Commit is { } commit ? $" (commit {commit})" : ""));
        Log($"LORENZA: training {options.Optimizer} on {train.Examples.Count} rows ({keys.Count} classes), " +
            $"{options.MaxEpochs} epoch(s), batch {options.BatchSize}, {trainingOptions.DescribeLearningRate()}, device {Runtime.Devices.Describe(trainingOptions.Compute.Device.Resolve())}" +
            (trainingOptions.Compute.Device == Runtime.ComputeDevice.Auto ? " (auto)" : "") + $", compute {trainingOptions.Compute.Resolve(trainingOptions.Compute.Device.Resolve())}.");
        if (TrainingWeights.Describe(trainingOptions.Data.ClassWeights, options.ExampleWeightColumnName is { } w ? $"column '{w}'" : null) is { } weighting)
            Log(weighting);
        var (classifier, report) = TextClassifierTrainer.Train(train, validation, trainingOptions, Progress(), options.CancellationToken);
        var columns = new ColumnNames(options.Sentence1ColumnName, options.Sentence2ColumnName, options.ScoreColumnName, options.PredictedLabelColumnName);
        return new LorenzaTransformer(classifier, columns, keys, report);
    }

    private static bool IsEmpty(IDataView data)
    {
        if (data.GetRowCount() is { } count) return count == 0;
        using var cursor = data.GetRowCursor([]);
        return !cursor.MoveNext();
    }

    private TextDataset ReadExamples(IDataView data, LabelKeys keys, string source, string? weightColumn)
    {
        var (label, keyType) = InputColumns.Label(data.Schema, options.LabelColumnName, source);
        if (keyType.Count != (ulong)keys.Count)
            throw new ArgumentOutOfRangeException(nameof(Options.ValidationSet),
                $"The {source}'s label has {keyType.Count} keys but the training data's has {keys.Count}: map both with the same fitted MapValueToKey.");
        var text = InputColumns.Text(data.Schema, options.Sentence1ColumnName, nameof(Options.Sentence1ColumnName), source);
        var pair = options.Sentence2ColumnName is { } name ? InputColumns.Text(data.Schema, name, nameof(Options.Sentence2ColumnName), source) : (DataViewSchema.Column?)null;
        var weight = weightColumn is null ? (DataViewSchema.Column?)null : InputColumns.Weight(data.Schema, weightColumn, source);

        var examples = new List<TextExample>();
        var missingLabels = 0;
        var needed = new[] { label, text, pair, weight }.OfType<DataViewSchema.Column>().ToArray();
        using (var cursor = data.GetRowCursor(needed))
        {
            var getLabel = cursor.GetGetter<uint>(label);
            var getText = cursor.GetGetter<ReadOnlyMemory<char>>(text);
            var getPair = pair is { } pc ? cursor.GetGetter<ReadOnlyMemory<char>>(pc) : null;
            var getWeight = weight is { } wc ? cursor.GetGetter<float>(wc) : null;
            uint key = 0;
            float exampleWeight = 1;
            ReadOnlyMemory<char> first = default, second = default;
            for (var row = 0; cursor.MoveNext(); row++)
            {
                getLabel(ref key);
                if (key == 0) { missingLabels++; continue; } // key 0: a value MapValueToKey did not know (as ML.NET trainers, skip)
                getText(ref first);
                getPair?.Invoke(ref second);
                if (getWeight is not null)
                {
                    getWeight(ref exampleWeight);
                    ExampleWeights.Check(exampleWeight, $"The {source}'s row {row}", $"{nameof(Options.ExampleWeightColumnName)} '{weightColumn}'");
                }
                examples.Add(new TextExample(first.ToString(), getPair is null ? null : second.ToString(), keys.Names[(int)key - 1], exampleWeight));
            }
        }
        if (missingLabels > 0) Log($"{source}: skipped {missingLabels} row(s) with a missing label (key 0).");
        if (examples.Count == 0)
            throw new InvalidOperationException($"The {source} has no rows with a label: nothing to train on.");
        if (weightColumn is not null) ExampleWeights.NotAllZero(examples, $"The {source}", $"{nameof(Options.ExampleWeightColumnName)} '{weightColumn}'");
        return TextDataset.FromExamples(examples, source);
    }

    /// <summary>The engine's options for these, group by group (every field reaches one: OptionSurfacesTests).</summary>
    internal static TrainingOptions ToTrainingOptions(Options o, IReadOnlyList<string> labels) => new()
    {
        Model = { PretrainedModelPath = o.PretrainedModelPath, Preset = o.Architecture, TokenizerMerges = o.TokenizerMerges, Dropout = o.Dropout },
        Data = { Labels = labels, MaxSequenceLength = o.MaxSequenceLength, ValidationFraction = o.ValidationFraction, ClassWeights = o.ClassWeights },
        Optimizer =
        {
            Algorithm = o.Optimizer,
            LearningRateSchedule = o.LearningRateSchedule,
            WarmupFraction = o.WarmupFraction,
            LearningRate = o.LearningRate,
            Beta1 = o.Beta1,
            Beta2 = o.Beta2,
            Epsilon = o.Epsilon,
            WeightDecay = o.WeightDecay,
            MaxGradNorm = o.MaxGradNorm,
            Rank = o.Rank,
            RefreshInterval = o.RefreshInterval,
            RefreshTolerance = o.RefreshTolerance,
            ResetMomentsOnRefresh = o.ResetMomentsOnRefresh,
            Oversampling = o.Oversampling,
            PowerIterations = o.PowerIterations,
            Scale = o.Scale,
            Rho = o.Rho,
            RhoMin = o.RhoMin,
            ZoSmoothing = o.ZoSmoothing,
            ZoQueries = o.ZoQueries,
            AscentDirection = o.AscentDirection,
            ProbeBatchFraction = o.ProbeBatchFraction,
            WordEmbeddings = o.WordEmbeddings,
        },
        Loop =
        {
            Epochs = o.MaxEpochs,
            BatchSize = o.BatchSize,
            GradientAccumulation = o.GradientAccumulation,
            MaxSteps = o.MaxSteps,
            Seed = unchecked((ulong)o.Seed),
            EarlyStoppingMetric = o.EarlyStoppingMetric,
            Patience = o.Patience,
            CheckpointEvery = o.CheckpointEvery,
            CheckpointDirectory = o.CheckpointDirectory,
            Resume = o.Resume,
        },
        Compute = { Device = o.Device, Precision = o.Precision },
    };

    private void Log(string line) => options.Log?.Invoke(line);

    // A line about every 10 % of the steps (and the last), and one per finished epoch, as they happen.
    private IProgress<TrainingProgress>? Progress()
    {
        if (options.Log is null) return null;
        var lastDecile = -1;
        var watch = Stopwatch.StartNew();
        var hasValidation = options.ValidationSet is not null || options.ValidationFraction > 0;
        return new SynchronousProgress(p =>
        {
            if (p.Notice is { } notice)
            {
                Log(notice);
                return;
            }
            if (p.CompletedEpoch is { } e)
            {
                Log($"epoch {e.Epoch}: train loss {e.TrainLoss:F4}, train accuracy {e.TrainAccuracy:P1}" +
                    (hasValidation ? $", validation accuracy {e.ValidationAccuracy:P1}, macro-F1 {e.ValidationMacroF1:F3}" : ""));
                return;
            }
            var decile = p.Step * 10 / Math.Max(1, p.TotalSteps);
            if (decile == lastDecile && p.Step != p.TotalSteps) return;
            lastDecile = decile;
            Log($"epoch {p.Epoch}/{p.Epochs} step {p.Step}/{p.TotalSteps} loss {p.Loss:F4} lr {p.LearningRate:G3} " +
                $"{p.StepsPerSecond:F1} steps/s, elapsed {Minutes(watch.Elapsed)}, left ~{Minutes(p.Eta)}");
        });
    }

    private static string Minutes(TimeSpan t) => $"{(int)t.TotalMinutes}:{t.Seconds:00}";

    // Progress<T> posts to the thread pool; training runs on the caller's thread, so report in order, inline.
    private sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
