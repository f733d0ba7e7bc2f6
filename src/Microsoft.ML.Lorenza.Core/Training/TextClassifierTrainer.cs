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

namespace Microsoft.ML.Lorenza.Training;

/// <summary>
/// Fine-tunes a pretrained RoBERTa or BERT classifier (<see cref="TrainingOptions.PretrainedModelPath"/>; config.json's
/// model_type decides), or trains a RoBERTa preset from scratch, on labelled texts with any of the optimizers. Deterministic on CPU for a fixed seed: the data order, dropout, initialization and the
/// optimizer's probes all derive from <see cref="TrainingOptions.Seed"/>.
/// </summary>
public static class TextClassifierTrainer
{
    public static (TextClassifier Classifier, TrainingReport Report) Train(
        TextDataset train, TextDataset? validation, TrainingOptions options,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        options.Validate();
        TorchRuntime.EnsureLoaded();
        var device = options.Device.Resolve();
        if (options.Labels is null) DataChecks.LabelsLookLikeClasses(train, options.LabelsAreClasses);
        var labels = options.Labels is { } fixedLabels ? LabelMap.Fixed(fixedLabels) : LabelMap.FromTraining(train);
        var trainIds = labels.IdsOf(train);
        var (trainSet, trainLabels, validationSet, validationLabels) = Split(train, trainIds, validation, labels, options);

        torch.manual_seed(unchecked((long)options.Seed));
        // A pretrained model's name ("minilm") is fetched and converted on first use, then read from the cache.
        var pretrainedFolder = options.PretrainedModelPath is { } pathOrName ? PretrainedModels.Resolve(pathOrName) : null;
        ITextTokenizer tokenizer = pretrainedFolder is { } path
            ? ModelFolder.LoadTokenizer(path)
            : BpeTrainer.Train(trainSet.Select(e => e.TextPair is null ? e.Text : e.Text + " " + e.TextPair), options.TokenizerMerges);
        SequenceClassifier model;
        IReadOnlyList<string> freshlyInitialized = [];
        if (pretrainedFolder is { } pretrained)
        {
            var (loadedModel, loadReport) = ModelFolder.Load(pretrained, labels.Names, options.Seed);
            (model, freshlyInitialized) = (loadedModel, loadReport.FreshlyInitialized);
            if (tokenizer.VocabSize > model.Config.VocabSize)
            {
                model.Dispose();
                throw new InvalidDataException($"{pretrained}: the tokenizer has {tokenizer.VocabSize} tokens but config.json vocab_size is {model.Config.VocabSize}; the tokenizer files do not belong to this model.");
            }
            DataChecks.MaxSequenceLength(options.MaxSequenceLength, model.Config.MaxSequenceLength, pretrained);
        }
        else
            model = RobertaForSequenceClassification.Create(WithLabels(RobertaConfig.Preset(options.Preset, tokenizer.VocabSize, labels.Count, options.MaxSequenceLength), labels), options.Seed);
        if (options.Dropout is { } dropout)
            (model.Config.HiddenDropoutProb, model.Config.AttentionProbsDropoutProb, model.Config.ClassifierDropout) = (dropout, dropout, dropout);
        model.to(device);
        model.ComputeType = options.Precision switch { ComputePrecision.Bf16 => ScalarType.BFloat16, ComputePrecision.Fp16 => ScalarType.Float16, _ => null };
        var classifier = new TextClassifier(model, tokenizer, options.MaxSequenceLength, device);
        try
        {
            var report = Run(classifier, trainSet, trainLabels, validationSet, validationLabels, options, progress, cancellation);
            report.SkippedEmptyTexts = train.SkippedEmpty + (validation?.SkippedEmpty ?? 0);
            report.FreshlyInitialized = freshlyInitialized;
            classifier.Metadata = Metadata(options, report);
            return (classifier, report);
        }
        catch
        {
            classifier.Dispose();
            throw;
        }
    }

    private static RobertaConfig WithLabels(RobertaConfig config, LabelMap labels)
    {
        config.Labels = [.. labels.Names];
        return config;
    }

    private static (List<TextExample>, int[], List<TextExample>, int[]) Split(TextDataset train, int[] ids, TextDataset? validation, LabelMap labels, TrainingOptions options)
    {
        if (validation is not null) return ([.. train.Examples], ids, [.. validation.Examples], labels.IdsOf(validation));
        var order = Enumerable.Range(0, ids.Length).ToArray();
        new Random(unchecked((int)options.Seed)).Shuffle(order);
        var held = (int)Math.Round(ids.Length * options.ValidationFraction);
        var validationIdx = order.Take(held).ToArray();
        var trainIdx = order.Skip(held).ToArray();
        return (trainIdx.Select(i => train.Examples[i]).ToList(), trainIdx.Select(i => ids[i]).ToArray(),
                validationIdx.Select(i => train.Examples[i]).ToList(), validationIdx.Select(i => ids[i]).ToArray());
    }

    private static TrainingReport Run(TextClassifier classifier, List<TextExample> train, int[] trainLabels,
        List<TextExample> validation, int[] validationLabels, TrainingOptions options,
        IProgress<TrainingProgress>? progress, CancellationToken cancellation)
    {
        var model = classifier.Model;
        var tokenizer = classifier.Tokenizer;
        var maxLength = classifier.MaxSequenceLength;
        var encoded = train.Select(e => tokenizer.EncodeSequence(e.Text, e.TextPair, maxLength)).ToArray();
        var batchesPerEpoch = (encoded.Length + options.BatchSize - 1) / options.BatchSize;
        var totalSteps = Math.Min(options.MaxSteps ?? int.MaxValue, batchesPerEpoch * options.Epochs);
        var schedule = LearningRateSchedule.Create(options.LearningRateSchedule, options.PeakLearningRate, totalSteps, options.WarmupFraction);
        var optimizerOptions = options.OptimizerOptions.Clone();
        optimizerOptions.Seed = options.Seed;
        optimizerOptions.LearningRate = options.PeakLearningRate;
        // A model trained from scratch learns its embedding from nothing: in rank-8 steps the tiny demo reached 72.9 %
        // instead of 87.9 % (README, "LORENZA at GaLore's cost"), so LORENZA's low-rank default is for fine-tuning only.
        if (options.PretrainedModelPath is null) optimizerOptions.WordEmbeddings ??= WordEmbeddingTreatment.Full;
        var parameters = ManagedParameterRule.Architecture.Apply(model);
        using var optimizer = OptimizerFactory.Create(options.Optimizer, parameters, optimizerOptions, schedule);

        var report = new TrainingReport { TrainExamples = train.Count, ValidationExamples = validation.Count, Optimizer = options.Optimizer };
        var checkpointPath = options.CheckpointDirectory is { } dir ? Path.Combine(dir, TrainingCheckpoint.FileName) : null;
        var fingerprint = Fingerprint(options, encoded, trainLabels);
        var start = options.Resume
            ? TrainingCheckpoint.Load(checkpointPath!, model, optimizer, report, fingerprint)
            : new TrainingPosition(1, 0, 0);
        var watch = Stopwatch.StartNew();
        var step = start.Step;
        double bestMetric = double.NegativeInfinity;
        var bestEpoch = 0;
        foreach (var done in report.Epochs) // a resumed run continues early stopping where it stood
            if (options.EarlyStoppingMetric is { } resumedMetric && EarlyStoppingValue(resumedMetric, done) > bestMetric)
                (bestMetric, bestEpoch) = (EarlyStoppingValue(resumedMetric, done), done.Epoch);
        for (var epoch = start.Epoch; epoch <= options.Epochs && step < totalSteps; epoch++)
        {
            var diagnosticSums = epoch == start.Epoch ? start.RestoreDiagnostics() : new Dictionary<string, (double Sum, int Count)>();
            var epochWatch = Stopwatch.StartNew();
            var epochSteps = 0;
            var plan = BatchPlan(encoded.Select(e => e.Length).ToArray(), options.BatchSize, options.Seed, epoch);
            var firstBatch = epoch == start.Epoch ? start.BatchInEpoch : 0;
            var epochFirstStep = step - firstBatch; // the global step of this epoch's first batch (also when resumed mid-epoch)
            for (var batchIndex = firstBatch; batchIndex < plan.Count; batchIndex++)
            {
                var batch = plan[batchIndex];
                if (step >= totalSteps) break;
                if (cancellation.IsCancellationRequested)
                    throw TrainingCheckpoint.Interrupted(checkpointPath, model, optimizer, new TrainingPosition(epoch, batchIndex, step, diagnosticSums), report, fingerprint, cancellation);
                using var scope = torch.NewDisposeScope();
                var padded = EncodedBatch.Pad(batch.Select(i => encoded[i]).ToList(), tokenizer.PadId);
                var (ids, mask, types) = TextClassifier.ToTensors(padded, classifier.Device);
                var labels = torch.tensor(batch.Select(i => (long)trainLabels[i]).ToArray(), device: classifier.Device);
                var closure = ClassifierLoss.Closure(model, ids, mask, types, labels, options.GradientAccumulation);
                var result = optimizer.Step(closure);
                step++;
                epochSteps++;
                report.StepLosses.Add(result.Loss);
                foreach (var (key, value) in optimizer.LastDiagnostics)
                    if (double.IsFinite(value)) diagnosticSums[key] = (diagnosticSums.GetValueOrDefault(key).Sum + value, diagnosticSums.GetValueOrDefault(key).Count + 1);
                if (options.CheckpointEvery is { } every && step % every == 0 && checkpointPath is not null)
                    TrainingCheckpoint.Save(checkpointPath, model, optimizer, new TrainingPosition(epoch, batchIndex + 1, step, diagnosticSums), report, fingerprint);
                var rate = (step - start.Step) / watch.Elapsed.TotalSeconds;
                progress?.Report(new TrainingProgress(epoch, options.Epochs, step, totalSteps, result.Loss, rate,
                    TimeSpan.FromSeconds((totalSteps - step) / Math.Max(rate, 1e-9)), result.LearningRate));
            }

            var trainEval = Evaluate(classifier, train.Take(Math.Max(validation.Count, 256)).ToList(), trainLabels.Take(Math.Max(validation.Count, 256)).ToArray());
            var validationEval = validation.Count > 0 ? Evaluate(classifier, validation, validationLabels) : trainEval;
            report.Validation = validationEval;
            var epochLoss = report.StepLosses.Skip(epochFirstStep).Take(step - epochFirstStep).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average();
            var epochResult = new EpochResult(epoch, step, epochLoss,
                trainEval.Accuracy, validationEval.Accuracy, validationEval.MacroF1, validationEval.LogLoss,
                trainEval.Accuracy - validationEval.Accuracy, schedule.At(Math.Max(0, step - 1)), epochSteps / epochWatch.Elapsed.TotalSeconds,
                diagnosticSums.ToDictionary(kv => kv.Key, kv => kv.Value.Sum / kv.Value.Count));
            report.Epochs.Add(epochResult);
            if (options.EarlyStoppingMetric is { } metric)
            {
                var value = EarlyStoppingValue(metric, epochResult);
                if (value > bestMetric) (bestMetric, bestEpoch) = (value, epoch);
                report.BestEpoch = bestEpoch;
            }
            var stepsPerSecond = (step - start.Step) / watch.Elapsed.TotalSeconds;
            progress?.Report(new TrainingProgress(epoch, options.Epochs, step, totalSteps, epochLoss, stepsPerSecond,
                TimeSpan.FromSeconds((totalSteps - step) / Math.Max(stepsPerSecond, 1e-9)), schedule.At(Math.Max(0, step - 1))) { CompletedEpoch = epochResult });
            if (options.EarlyStoppingMetric is not null && epoch - bestEpoch >= options.Patience)
            {
                report.StoppedEarly = true;
                break;
            }
        }
        optimizer.Finish(); // LoRA folds its adapters into the weights here; nothing of the optimizer stays on the model
        report.SkippedSteps = optimizer.SkippedSteps;
        report.OptimizerStateBytes = optimizer.StateBytes;
        report.SecondsPerStep = watch.Elapsed.TotalSeconds / Math.Max(1, step);
        return report;
    }

    private static double EarlyStoppingValue(EarlyStoppingMetric metric, EpochResult e) =>
        metric switch { EarlyStoppingMetric.Accuracy => e.ValidationAccuracy, EarlyStoppingMetric.MacroF1 => e.ValidationMacroF1, _ => -e.ValidationLogLoss };

    // Identifies the data and options a checkpoint belongs to, so --resume refuses another run's checkpoint.
    private static string Fingerprint(TrainingOptions options, EncodedText[] encoded, int[] labels)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            options.Optimizer, options.OptimizerOptions, options.LearningRateSchedule, options.WarmupFraction, options.Epochs,
            options.BatchSize, options.MaxSequenceLength, options.MaxSteps, options.Seed, options.Preset, options.PretrainedModelPath, options.Labels,
        }, Json)));
        foreach (var row in encoded)
        {
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(row.Ids.AsSpan()));
            // Token types only where there are some (BERT pairs), so RoBERTa checkpoints keep their fingerprints.
            if (row.TypeIds.Any(t => t != 0)) hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(row.TypeIds.AsSpan()));
        }
        hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(labels.AsSpan()));
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    /// <summary>Metrics of the classifier on labelled examples.</summary>
    public static ClassificationMetrics Evaluate(TextClassifier classifier, IReadOnlyList<TextExample> examples, int[] labels)
    {
        var probabilities = classifier.PredictProbabilities(examples.Select(e => e.Text).ToList(), examples.Select(e => e.TextPair).ToList());
        return ClassificationMetrics.Compute(labels, probabilities, classifier.Labels);
    }

    /// <summary>
    /// Length bucketing: shuffle (seeded by seed and epoch), sort chunks of 50 batches by token length so
    /// each batch pads little, then shuffle the batch order. A pure function of its arguments, so a
    /// resumed run can recompute the data order.
    /// </summary>
    public static List<int[]> BatchPlan(int[] lengths, int batchSize, ulong seed, int epoch)
    {
        var random = new Random(unchecked((int)(seed * 1_000_003 + (ulong)epoch)));
        var order = Enumerable.Range(0, lengths.Length).ToArray();
        random.Shuffle(order);
        var batches = new List<int[]>();
        foreach (var chunk in order.Chunk(batchSize * 50))
            batches.AddRange(chunk.OrderBy(i => lengths[i]).ThenBy(i => i).Chunk(batchSize));
        var shuffled = batches.ToArray();
        random.Shuffle(shuffled);
        return [.. shuffled];
    }

    private static OptimizerOptions WithLearningRate(OptimizerOptions options, double learningRate)
    {
        var resolved = options.Clone();
        resolved.LearningRate = learningRate;
        return resolved;
    }

    // NaN can appear (an epoch whose steps were all skipped); JSON has no NaN, so it is written as "NaN".
    private static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private static JsonObject Metadata(TrainingOptions options, TrainingReport report) => new()
    {
        ["optimizer"] = options.Optimizer,
        ["options"] = JsonSerializer.SerializeToNode(WithLearningRate(options.OptimizerOptions, options.PeakLearningRate), Json),
        ["training"] = new JsonObject
        {
            ["epochs"] = options.Epochs, ["batch_size"] = options.BatchSize, ["max_sequence_length"] = options.MaxSequenceLength,
            ["learning_rate_schedule"] = options.LearningRateSchedule.ToString().ToLowerInvariant(), ["seed"] = options.Seed, ["preset"] = options.Preset,
            ["pretrained"] = options.PretrainedModelPath,
        },
        ["metrics"] = report.Validation is { } v ? (JsonNode?)JsonSerializer.SerializeToNode(new { validation_accuracy = v.Accuracy, validation_macro_f1 = v.MacroF1, validation_log_loss = v.LogLoss }, Json) : null,
        ["history"] = JsonSerializer.SerializeToNode(report.Epochs, Json),
        ["skipped_steps"] = report.SkippedSteps,
        ["skipped_empty_texts"] = report.SkippedEmptyTexts,
    };
}
