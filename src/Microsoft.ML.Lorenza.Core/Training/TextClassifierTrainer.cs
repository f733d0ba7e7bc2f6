using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Optimizers;
using Microsoft.ML.Lorenza.Pretrained;
using Microsoft.ML.Lorenza.Text;
using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.ML.Lorenza.Datasets;
using Microsoft.ML.Lorenza.Inference;
using Microsoft.ML.Lorenza.Configuration;

namespace Microsoft.ML.Lorenza.Training;

/// <summary>
/// Fine-tunes a pretrained RoBERTa or BERT classifier (<see cref="ModelOptions.PretrainedModelPath"/>; config.json's
/// model_type decides), or trains a RoBERTa preset from scratch, on labelled texts with any of the optimizers. Deterministic for a fixed seed on a given device: the data order, dropout, initialization and the optimizer's probes all
/// derive from <see cref="LoopOptions.Seed"/> (on CUDA, dropout is reseeded every step: <see cref="CudaStepSeed"/>).
/// </summary>
public static class TextClassifierTrainer
{
    public static (TextClassifier Classifier, TrainingReport Report) Train(
        TextDataset train, TextDataset? validation, TrainingOptions options,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default) =>
        Train(train, validation, options, progress, cancellation, afterEpoch: null);

    /// <summary>
    /// <see cref="Train(TextDataset, TextDataset?, TrainingOptions, IProgress{TrainingProgress}?, CancellationToken)"/> with
    /// <paramref name="afterEpoch"/> called on the training thread after each epoch's evaluation, with the model as it
    /// stands then (benchmarks measure extra sets per epoch with it; it must not change the model).
    /// </summary>
    internal static (TextClassifier Classifier, TrainingReport Report) Train(
        TextDataset train, TextDataset? validation, TrainingOptions options,
        IProgress<TrainingProgress>? progress, CancellationToken cancellation, Action<TextClassifier, EpochResult>? afterEpoch)
    {
        options.Validate();
        TorchRuntime.EnsureLoaded();
        var device = options.Compute.Device.Resolve();
        if (options.Data.Labels is null) DataChecks.LabelsLookLikeClasses(train, options.Data.LabelsAreClasses);
        var labels = options.Data.Labels is { } fixedLabels ? LabelMap.Fixed(fixedLabels) : LabelMap.FromTraining(train);
        ExampleWeights.CheckAll(train); // validation rows are evaluated unweighted: their weights are not used
        var split = DataSplit.Of(train, validation, labels, options.Data.ValidationFraction, options.Loop.Seed);
        var weights = TrainingWeights.Of(split, labels.Count, options.Data.ClassWeights);
        var (classifier, freshlyInitialized) = CreateClassifier(split, labels, options, device);
        try
        {
            if (freshlyInitialized.Count > 0)
                progress?.Report(TrainingProgress.ForNotice($"not in the pretrained folder, initialized afresh: {string.Join(", ", freshlyInitialized)}"));
            var report = Run(classifier, DataPlan.Encode(split, classifier, options.Loop.BatchSize, options.Loop.Seed, weights), options, progress, cancellation, afterEpoch);
            report.SkippedEmptyTexts = train.SkippedEmpty + (validation?.SkippedEmpty ?? 0);
            report.FreshlyInitialized = freshlyInitialized;
            report.ClassWeights = TrainingWeights.ClassWeights(options.Data.ClassWeights, split.TrainLabels, labels.Count);
            report.ExampleWeights = split.Train.Any(e => e.Weight != 1);
            classifier.Metadata = Metadata(options, report, labels);
            return (classifier, report);
        }
        catch
        {
            classifier.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The model to train, on the run's device: the pretrained one with its tokenizer (and the weights it lacked), or the
    /// preset from scratch with a BPE learned from the training texts.
    /// </summary>
    private static (TextClassifier Classifier, IReadOnlyList<string> FreshlyInitialized) CreateClassifier(DataSplit split, LabelMap labels, TrainingOptions options, Device device)
    {
        torch.manual_seed(unchecked((long)options.Loop.Seed));
        // A folder, a built-in name or a hub id, resolved once per run (by the front end when it showed the download).
        var pretrainedFolder = options.Model.ResolvePretrained()?.Folder;
        ITextTokenizer tokenizer = pretrainedFolder is { } path
            ? ModelFolder.LoadTokenizer(path)
            : BpeTrainer.Train(split.Train.Select(e => e.TextPair is null ? e.Text : e.Text + " " + e.TextPair), options.Model.TokenizerMerges);
        SequenceClassifier model;
        IReadOnlyList<string> freshlyInitialized = [];
        if (pretrainedFolder is { } pretrained)
        {
            var (loadedModel, loadReport) = ModelFolder.Load(pretrained, labels.Names, options.Loop.Seed);
            (model, freshlyInitialized) = (loadedModel, loadReport.FreshlyInitialized);
            if (tokenizer.VocabSize > model.Config.VocabSize)
            {
                model.Dispose();
                throw new InvalidDataException($"{pretrained}: the tokenizer has {tokenizer.VocabSize} tokens but config.json vocab_size is {model.Config.VocabSize}; the tokenizer files do not belong to this model.");
            }
            DataChecks.MaxSequenceLength(options.Data.MaxSequenceLength, model.Config.MaxSequenceLength, pretrained);
        }
        else
            model = RobertaForSequenceClassification.Create(WithLabels(RobertaConfig.Preset(options.Model.Preset!.Value, tokenizer.VocabSize, labels.Count, options.Data.MaxSequenceLength), labels), options.Loop.Seed);
        if (options.Model.Dropout is { } dropout)
            (model.Config.HiddenDropoutProb, model.Config.AttentionProbsDropoutProb, model.Config.ClassifierDropout) = (dropout, dropout, dropout);
        model.to(device);
        var classifier = new TextClassifier(model, tokenizer, options.Data.MaxSequenceLength, device);
        classifier.UsePrecision(options.Compute.Precision);
        return (classifier, freshlyInitialized);
    }

    private static RobertaConfig WithLabels(RobertaConfig config, LabelMap labels)
    {
        config.Labels = [.. labels.Names];
        return config;
    }

    /// <summary>The train loop: for each epoch, each batch a step (with its progress and checkpoint), then the evaluation and early stopping.</summary>
    private static TrainingReport Run(TextClassifier classifier, DataPlan data, TrainingOptions options,
        IProgress<TrainingProgress>? progress, CancellationToken cancellation, Action<TextClassifier, EpochResult>? afterEpoch)
    {
        var loop = options.Loop;
        var totalSteps = Math.Min(loop.MaxSteps ?? int.MaxValue, data.BatchesPerEpoch * loop.Epochs);
        var schedule = LearningRateSchedule.Create(options.Optimizer.LearningRateSchedule, options.PeakLearningRate, totalSteps, options.Optimizer.WarmupFraction);
        using var optimizer = CreateOptimizer(classifier.Model, options, schedule);
        var report = new TrainingReport { TrainExamples = data.Split.Train.Count, ValidationExamples = data.Split.Validation.Count, Optimizer = options.Optimizer.Algorithm.Name };
        var checkpoints = new Checkpointing(options, data, classifier.Model, optimizer, report);
        var start = checkpoints.Start(loop.Resume);
        var clock = new TrainingClock(start.Step, totalSteps, loop.Epochs);
        var stopping = new EarlyStopping(loop.EarlyStoppingMetric, loop.Patience);
        foreach (var done in report.Epochs) stopping.Observe(done); // a resumed run continues early stopping where it stood
        var step = start.Step;
        for (var epoch = start.Epoch; epoch <= loop.Epochs && step < totalSteps; epoch++)
        {
            var diagnosticSums = epoch == start.Epoch ? start.RestoreDiagnostics() : new Dictionary<string, (double Sum, int Count)>();
            var epochWatch = Stopwatch.StartNew();
            var batches = data.Batches(epoch);
            var firstBatch = epoch == start.Epoch ? start.BatchInEpoch : 0;
            var epochFirstStep = step - firstBatch; // the global step of this epoch's first batch (also when resumed mid-epoch)
            var stepBefore = step;
            for (var batchIndex = firstBatch; batchIndex < batches.Count && step < totalSteps; batchIndex++)
            {
                if (cancellation.IsCancellationRequested) throw checkpoints.Interrupted(epoch, batchIndex, step, diagnosticSums, cancellation);
                CudaStepSeed.Apply(classifier.Device, loop.Seed, step);
                var result = StepOn(batches[batchIndex], data, classifier, optimizer, loop.GradientAccumulation);
                step++;
                report.StepLosses.Add(result.Loss);
                AddDiagnostics(diagnosticSums, optimizer.LastDiagnostics);
                checkpoints.AfterStep(epoch, batchIndex + 1, step, diagnosticSums);
                progress?.Report(clock.Progress(epoch, step, result.Loss, result.LearningRate));
            }

            var epochLoss = report.StepLosses.Skip(epochFirstStep).Take(step - epochFirstStep).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average();
            var (epochResult, validationMetrics) = EvaluateEpoch(classifier, data.Split, epoch, step, epochLoss,
                schedule.At(Math.Max(0, step - 1)), (step - stepBefore) / epochWatch.Elapsed.TotalSeconds, diagnosticSums);
            report.Validation = validationMetrics;
            report.Epochs.Add(epochResult);
            var stop = stopping.Observe(epochResult);
            if (stopping.Enabled) report.BestEpoch = stopping.BestEpoch;
            afterEpoch?.Invoke(classifier, epochResult);
            progress?.Report(clock.Progress(epoch, step, epochLoss, epochResult.LearningRate) with { CompletedEpoch = epochResult });
            if (stop)
            {
                report.StoppedEarly = true;
                break;
            }
        }
        optimizer.Finish(); // LoRA folds its adapters into the weights here; nothing of the optimizer stays on the model
        report.SkippedSteps = optimizer.SkippedSteps;
        report.OptimizerStateBytes = optimizer.StateBytes;
        report.SecondsPerStep = clock.Elapsed.TotalSeconds / Math.Max(1, step);
        return report;
    }

    /// <summary>The run's optimizer: its options with the peak rate resolved and the run's seed; from scratch, the word embedding in full.</summary>
    private static IOptimizer CreateOptimizer(SequenceClassifier model, TrainingOptions options, LearningRateSchedule schedule)
    {
        var optimizerOptions = options.Optimizer.Clone();
        optimizerOptions.Seed = options.Loop.Seed;
        optimizerOptions.LearningRate = options.PeakLearningRate;
        // A model trained from scratch learns its embedding from nothing: in rank-8 steps the tiny demo reached 72.9 %
        // instead of 87.9 % (docs/benchmarks.md, "LORENZA at GaLore's cost"), so LORENZA's low-rank default is for fine-tuning only.
        if (options.Model.FromScratch) optimizerOptions.WordEmbeddings ??= WordEmbeddingTreatment.Full;
        return OptimizerFactory.Create(optimizerOptions.Algorithm, ManagedParameterRule.Architecture.Apply(model), optimizerOptions, schedule);
    }

    /// <summary>One optimizer step on one batch of the plan: padded, on the model's device, through the loss closure.</summary>
    private static StepResult StepOn(int[] batch, DataPlan data, TextClassifier classifier, IOptimizer optimizer, int microBatches)
    {
        using var scope = torch.NewDisposeScope();
        var padded = EncodedBatch.Pad(batch.Select(i => data.Encoded[i]).ToList(), classifier.Tokenizer.PadId);
        var (ids, mask, types) = TextClassifier.ToTensors(padded, classifier.Device);
        var targets = torch.tensor(batch.Select(i => (long)data.Split.TrainLabels[i]).ToArray(), device: classifier.Device);
        var weights = data.Weights is { } w ? torch.tensor(batch.Select(i => w[i]).ToArray(), device: classifier.Device) : null;
        return optimizer.Step(ClassifierLoss.Closure(classifier.Model, ids, mask, types, targets, microBatches, weights));
    }

    /// <summary>Adds a step's finite diagnostics to the epoch's sums (their means go into the epoch's result).</summary>
    private static void AddDiagnostics(Dictionary<string, (double Sum, int Count)> sums, IReadOnlyDictionary<string, double> diagnostics)
    {
        foreach (var (key, value) in diagnostics)
            if (double.IsFinite(value)) sums[key] = (sums.GetValueOrDefault(key).Sum + value, sums.GetValueOrDefault(key).Count + 1);
    }

    /// <summary>
    /// The end-of-epoch evaluation: accuracy on (up to) as many training rows as there are validation rows (at least 256) and
    /// metrics on the validation rows (the training rows' when there are none), with the epoch's loss, rate and diagnostics.
    /// </summary>
    private static (EpochResult Result, ClassificationMetrics Validation) EvaluateEpoch(TextClassifier classifier, DataSplit data, int epoch, int step,
        double epochLoss, double learningRate, double stepsPerSecond, Dictionary<string, (double Sum, int Count)> diagnosticSums)
    {
        var trainRows = Math.Max(data.Validation.Count, 256);
        var trainEval = Evaluate(classifier, data.Train.Take(trainRows).ToList(), data.TrainLabels.Take(trainRows).ToArray());
        var validationEval = data.Validation.Count > 0 ? Evaluate(classifier, data.Validation, data.ValidationLabels) : trainEval;
        var result = new EpochResult(epoch, step, epochLoss,
            trainEval.Accuracy, validationEval.Accuracy, validationEval.MacroF1, validationEval.LogLoss,
            trainEval.Accuracy - validationEval.Accuracy, learningRate, stepsPerSecond,
            diagnosticSums.ToDictionary(kv => kv.Key, kv => kv.Value.Sum / kv.Value.Count));
        return (result, validationEval);
    }

    /// <summary>Metrics of the classifier on labelled examples.</summary>
    public static ClassificationMetrics Evaluate(TextClassifier classifier, IReadOnlyList<TextExample> examples, int[] labels)
    {
        var probabilities = classifier.PredictProbabilities(examples.Select(e => e.Text).ToList(), examples.Select(e => e.TextPair).ToList());
        return ClassificationMetrics.Compute(labels, probabilities, classifier.Labels);
    }

    private static OptimizerOptions WithLearningRate(OptimizerOptions options, double learningRate)
    {
        var resolved = options.Clone();
        resolved.LearningRate = learningRate;
        return resolved;
    }

    /// <summary>The loss weights beside the optimizer's options: the class weighting, each class's weight, whether rows had example weights.</summary>
    private static JsonObject WithWeights(JsonObject node, TrainingOptions options, TrainingReport report, LabelMap labels)
    {
        node["ClassWeights"] = options.Data.ClassWeights.ToString();
        node["ClassWeightValues"] = report.ClassWeights is { } values ? new JsonObject(labels.Names.Select((n, i) => KeyValuePair.Create(n, (JsonNode?)values[i]))) : null;
        node["ExampleWeights"] = report.ExampleWeights;
        return node;
    }

    // NaN can appear (an epoch whose steps were all skipped); JSON has no NaN, so it is written as "NaN".
    private static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private static JsonObject Metadata(TrainingOptions options, TrainingReport report, LabelMap labels) => new()
    {
        ["optimizer"] = options.Optimizer.Algorithm.Name,
        ["options"] = WithWeights(JsonSerializer.SerializeToNode(WithLearningRate(options.Optimizer, options.PeakLearningRate), Json)!.AsObject(), options, report, labels),
        ["training"] = new JsonObject
        {
            ["epochs"] = options.Loop.Epochs, ["batch_size"] = options.Loop.BatchSize, ["max_sequence_length"] = options.Data.MaxSequenceLength,
            ["learning_rate_schedule"] = options.Optimizer.LearningRateSchedule.ToString().ToLowerInvariant(), ["seed"] = options.Loop.Seed,
            ["preset"] = options.Model.Preset?.Name, ["pretrained"] = options.Model.Pretrained,
        },
        ["metrics"] = report.Validation is { } v ? (JsonNode?)JsonSerializer.SerializeToNode(new { validation_accuracy = v.Accuracy, validation_macro_f1 = v.MacroF1, validation_log_loss = v.LogLoss }, Json) : null,
        ["history"] = JsonSerializer.SerializeToNode(report.Epochs, Json),
        ["skipped_steps"] = report.SkippedSteps,
        ["skipped_empty_texts"] = report.SkippedEmptyTexts,
    };
}
