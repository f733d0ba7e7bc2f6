using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Lorenza.Modeling;

/// <summary>HF's "encoder": the stack of transformer blocks, named "layer.0", "layer.1", ...</summary>
public sealed class RobertaEncoder : nn.Module
{
    public readonly ModuleList<RobertaLayer> layer;

    public RobertaEncoder(RobertaConfig config) : base(nameof(RobertaEncoder))
    {
        layer = nn.ModuleList(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new RobertaLayer(config)).ToArray());
        RegisterComponents();
    }
}

/// <summary>HF's RobertaModel without the pooler (the classifier uses add_pooling_layer=False).</summary>
public sealed class RobertaModel : nn.Module
{
    public readonly RobertaEmbeddings embeddings;
    public readonly RobertaEncoder encoder;

    public RobertaModel(RobertaConfig config) : base(nameof(RobertaModel))
    {
        embeddings = new RobertaEmbeddings(config);
        encoder = new RobertaEncoder(config);
        RegisterComponents();
    }
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
/// Every 2-D weight is a <see cref="SideBranchLinear"/>, so optimizers can attach low-rank side
/// branches to it (see <see cref="ManagedLinears"/>).
/// </summary>
public sealed class RobertaForSequenceClassification : nn.Module
{
    public readonly RobertaModel roberta;
    public readonly RobertaClassificationHead classifier;
    private ScalarType? computeType;

    public RobertaForSequenceClassification(RobertaConfig config) : base(nameof(RobertaForSequenceClassification))
    {
        config.Validate();
        TorchRuntime.EnsureLoaded();
        Config = config;
        roberta = new RobertaModel(config);
        classifier = new RobertaClassificationHead(config);
        RegisterComponents();
    }

    public RobertaConfig Config { get; }

    // Constants as Scalars that live as long as the process (README, "TorchSharp notes").
    private static readonly Scalar MinusFloatMin = (-(double)float.MinValue).ToScalar();

    /// <summary>
    /// Mixed precision: with <see cref="ScalarType.BFloat16"/> (or Float16) every linear layer and the attention
    /// products compute in that type on casts of the float32 master weights, while embeddings, softmax,
    /// LayerNorm, the residual stream, the logits and the loss stay float32 and gradients arrive in float32 —
    /// what CUDA autocast does, which TorchSharp 0.107 lacks. Null (default): float32 everywhere.
    /// </summary>
    public ScalarType? ComputeType
    {
        get => computeType;
        set
        {
            if (value is { } t && t is not (ScalarType.BFloat16 or ScalarType.Float16 or ScalarType.Float32 or ScalarType.Float64))
                throw new ArgumentException($"The compute type must be a floating-point type, not {t}.", nameof(value));
            computeType = value;
            foreach (var (_, module) in ModuleTree.DepthFirst(this))
                if (module is SideBranchLinear linear) linear.ComputeType = value;
        }
    }

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
        foreach (var (name, module) in ModuleTree.DepthFirst(this))
        {
            switch (module)
            {
                case SideBranchLinear linear:
                    linear.weight.normal_(0, Config.InitializerRange, generator);
                    linear.bias?.zero_();
                    break;
                case Embedding embedding:
                    embedding.weight!.normal_(0, Config.InitializerRange, generator);
                    if (!name.EndsWith("token_type_embeddings", StringComparison.Ordinal))
                        using (var row = embedding.weight.select(0, Config.PadTokenId)) row.zero_();
                    break;
                case LayerNorm norm:
                    nn.init.ones_(norm.weight!);
                    norm.bias!.zero_();
                    break;
            }
        }
    }

    /// <summary>The 2-D transformer-block weights (attention query/key/value/output, FFN in and out) with their names.</summary>
    public IEnumerable<(string name, SideBranchLinear layer)> ManagedLinears() =>
        ModuleTree.DepthFirst(this)
            .Where(m => m.Module is SideBranchLinear && m.Name.StartsWith("roberta.encoder.layer.", StringComparison.Ordinal))
            .Select(m => (m.Name + ".weight", (SideBranchLinear)m.Module));

    /// <summary>
    /// Logits [batch, labels] for token ids [batch, seq] (int64) and an attention mask (1 = token,
    /// 0 = padding). With <paramref name="labels"/> the mean cross-entropy is returned too.
    /// </summary>
    public RobertaOutput forward(Tensor inputIds, Tensor attentionMask, Tensor? labels = null, bool returnHiddenStates = false)
    {
        CheckInputs(inputIds, attentionMask);
        using var scope = torch.NewDisposeScope();
        var embedded = roberta.embeddings.call(inputIds);
        // (1 − mask) · float32.min on padded keys, broadcast over heads and query rows, as HF does.
        var additiveMask = attentionMask.to(ScalarType.Float32).sub_(Scalars.One).mul_(MinusFloatMin).view(inputIds.size(0), 1, 1, inputIds.size(1));
        var hidden = embedded;
        foreach (var block in roberta.encoder.layer) hidden = block.call(hidden, additiveMask);
        var logits = classifier.call(hidden);
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
        if (inputIds.dim() != 2) throw new ArgumentException($"input_ids must be [batch, sequence], got shape {Shapes.Format(inputIds.shape)}.", nameof(inputIds));
        if (inputIds.dtype != ScalarType.Int64) throw new ArgumentException($"input_ids must be int64, got {inputIds.dtype}.", nameof(inputIds));
        if (!attentionMask.shape.SequenceEqual(inputIds.shape))
            throw new ArgumentException($"attention_mask shape {Shapes.Format(attentionMask.shape)} differs from input_ids shape {Shapes.Format(inputIds.shape)}.", nameof(attentionMask));
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
