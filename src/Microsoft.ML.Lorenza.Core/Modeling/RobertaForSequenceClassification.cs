using Microsoft.ML.Lorenza.Torch;
using F = Microsoft.ML.Lorenza.Torch.torch.nn.functional;

namespace Microsoft.ML.Lorenza.Modeling;

/// <summary>HF's "encoder": the stack of transformer blocks, named "layer.0", "layer.1", ...</summary>
public sealed class RobertaEncoder : Module
{
    public RobertaEncoder(RobertaConfig config) =>
        layer = register_module("layer", new ModuleList<RobertaLayer>(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new RobertaLayer(config))));

    public ModuleList<RobertaLayer> layer { get; }
}

/// <summary>HF's RobertaModel without the pooler (the classifier uses add_pooling_layer=False).</summary>
public sealed class RobertaModel : Module
{
    public RobertaModel(RobertaConfig config)
    {
        embeddings = register_module("embeddings", new RobertaEmbeddings(config));
        encoder = register_module("encoder", new RobertaEncoder(config));
    }

    public RobertaEmbeddings embeddings { get; }
    public RobertaEncoder encoder { get; }
}

/// <summary>What one forward pass returns. Dispose it (or let a scope do so).</summary>
public sealed class RobertaOutput : IDisposable
{
    public required Tensor Logits { get; init; }
    public Tensor? Loss { get; init; }
    public Tensor? EmbeddingsOutput { get; init; }
    public Tensor? LastHiddenState { get; init; }

    public void Dispose()
    {
        Logits.Dispose();
        Loss?.Dispose();
        EmbeddingsOutput?.Dispose();
        LastHiddenState?.Dispose();
    }
}

/// <summary>
/// RoBERTa for sequence classification (HF's RobertaForSequenceClassification): parameter names match
/// Hugging Face state dicts ("roberta.encoder.layer.0.attention.self.query.weight", "classifier.out_proj.bias").
/// Every 2-D transformer-block weight is a <see cref="Linear"/>, so optimizers can attach low-rank side
/// branches to it (see <see cref="ManagedLinears"/>).
/// </summary>
public sealed class RobertaForSequenceClassification : Module
{
    public RobertaForSequenceClassification(RobertaConfig config)
    {
        config.Validate();
        Config = config;
        roberta = register_module("roberta", new RobertaModel(config));
        classifier = register_module("classifier", new RobertaClassificationHead(config));
    }

    public RobertaConfig Config { get; }

    /// <summary>
    /// Mixed precision for CUDA: with <see cref="ScalarType.BFloat16"/> (or Float16) the forward runs under
    /// CUDA autocast (matmuls in the reduced type, float32 master weights, softmax/LayerNorm/loss in
    /// float32). Ignored on CPU, which always computes in float32. Default: float32 everywhere.
    /// </summary>
    public ScalarType? MixedPrecision { get; set; }
    public RobertaModel roberta { get; }
    public RobertaClassificationHead classifier { get; }

    /// <summary>A model with Hugging Face's random initialization, reproducible from <paramref name="seed"/>.</summary>
    public static RobertaForSequenceClassification Create(RobertaConfig config, ulong seed)
    {
        var model = new RobertaForSequenceClassification(config);
        model.InitializeWeights(seed);
        return model;
    }

    /// <summary>
    /// HF's _init_weights: Linear and Embedding weights ~ N(0, initializer_range), biases 0, LayerNorm
    /// weight 1 and bias 0, the padding row of each embedding with a padding index zeroed.
    /// </summary>
    public void InitializeWeights(ulong seed)
    {
        using var generator = new Generator(seed);
        using var noGrad = torch.no_grad();
        foreach (var (_, module) in named_modules())
        {
            switch (module)
            {
                case Linear linear:
                    linear.weight.normal_(0, Config.InitializerRange, generator);
                    linear.bias?.zero_();
                    break;
                case Embedding embedding:
                    embedding.weight.normal_(0, Config.InitializerRange, generator);
                    if (embedding.PaddingIndex >= 0)
                        using (var row = embedding.weight.select(0, embedding.PaddingIndex)) row.zero_();
                    break;
                case LayerNorm norm:
                    norm.weight.fill_(1);
                    norm.bias.zero_();
                    break;
            }
        }
    }

    /// <summary>The 2-D transformer-block weights (attention query/key/value/output, FFN in and out) with their names.</summary>
    public IEnumerable<(string name, Linear layer)> ManagedLinears() =>
        named_modules()
            .Where(m => m.module is Linear && m.name.StartsWith("roberta.encoder.layer.", StringComparison.Ordinal))
            .Select(m => (m.name + ".weight", (Linear)m.module));

    /// <summary>
    /// Logits [batch, labels] for token ids [batch, seq] (int64) and an attention mask (1 = token,
    /// 0 = padding). With <paramref name="labels"/> the mean cross-entropy is returned too.
    /// </summary>
    public RobertaOutput forward(Tensor inputIds, Tensor attentionMask, Tensor? labels = null, bool returnHiddenStates = false)
    {
        CheckInputs(inputIds, attentionMask);
        using var autocast = MixedPrecision is { } reduced && inputIds.device.IsCuda ? torch.cuda.autocast(reduced) : null;
        using var scope = torch.NewDisposeScope();
        var embedded = roberta.embeddings.forward(inputIds);
        // (1 − mask) · float32.min on padded keys, broadcast over heads and query rows, as HF does.
        var additiveMask = (1.0 - attentionMask.to(embedded.dtype)).mul(float.MinValue).view(inputIds.size(0), 1, 1, inputIds.size(1));
        var hidden = embedded;
        foreach (var block in roberta.encoder.layer.Items) hidden = block.forward(hidden, additiveMask);
        var logits = classifier.forward(hidden).to(ScalarType.Float32);
        var loss = labels is null ? null : F.cross_entropy(logits, labels);
        return new RobertaOutput
        {
            Logits = logits.MoveToOuterDisposeScope(),
            Loss = loss?.MoveToOuterDisposeScope(),
            EmbeddingsOutput = returnHiddenStates ? embedded.MoveToOuterDisposeScope() : null,
            LastHiddenState = returnHiddenStates ? hidden.MoveToOuterDisposeScope() : null,
        };
    }

    private void CheckInputs(Tensor inputIds, Tensor attentionMask)
    {
        if (inputIds.dim() != 2) throw new ArgumentException($"input_ids must be [batch, sequence], got shape {Tensor.ShapeString(inputIds.shape)}.", nameof(inputIds));
        if (inputIds.dtype != ScalarType.Int64) throw new ArgumentException($"input_ids must be int64, got {inputIds.dtype}.", nameof(inputIds));
        if (!attentionMask.shape.SequenceEqual(inputIds.shape))
            throw new ArgumentException($"attention_mask shape {Tensor.ShapeString(attentionMask.shape)} differs from input_ids shape {Tensor.ShapeString(inputIds.shape)}.", nameof(attentionMask));
        var seq = inputIds.size(1);
        if (seq > Config.MaxSequenceLength)
            throw new ArgumentException($"Sequence length {seq} exceeds the model's maximum of {Config.MaxSequenceLength} tokens (max_position_embeddings {Config.MaxPositionEmbeddings} − padding offset {Config.PadTokenId + 1}); truncate inputs.", nameof(inputIds));
        if (inputIds.numel() == 0) return;
        using var min = inputIds.min();
        using var max = inputIds.max();
        long lo = min.item<long>(), hi = max.item<long>();
        if (lo < 0 || hi >= Config.VocabSize)
            throw new ArgumentOutOfRangeException(nameof(inputIds), $"Token id {(lo < 0 ? lo : hi)} is outside the vocabulary [0, {Config.VocabSize}); the tokenizer and the model's vocab_size disagree.");
    }
}
