using Microsoft.ML.Lorenza.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Lorenza.Modeling;

/// <summary>What one forward pass returns. Dispose it (or let a scope do so).</summary>
public sealed class SequenceClassifierOutput : IDisposable
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
/// A transformer text classifier, as the rest of the engine sees it (RoBERTa, XLM-RoBERTa, BERT, DistilBERT, ELECTRA):
/// embeddings, the encoder blocks, an architecture's head; Hugging Face parameter names ("roberta.…", "bert.…",
/// "distilbert.…", "electra.…", "classifier.…"). Every weight matrix is a <see cref="SideBranchLinear"/>, so optimizers can attach
/// low-rank side branches; <see cref="ManagedLinears"/> reports the ones of the encoder blocks.
/// </summary>
public abstract class SequenceClassifier : nn.Module
{
    private ScalarType? computeType;

    // Constants as Scalars that live as long as the process (docs/engine.md, "TorchSharp notes").
    private static readonly Scalar MinusFloatMin = (-(double)float.MinValue).ToScalar();

    private protected SequenceClassifier(string name, TransformerConfig config) : base(name)
    {
        config.Validate();
        TorchRuntime.EnsureLoaded();
        Config = config;
    }

    public TransformerConfig Config { get; }

    /// <summary>The state-dict prefix of the encoder ("roberta", "bert", "distilbert", "electra"; Hugging Face's base_model_prefix).</summary>
    public abstract string BaseModelPrefix { get; }

    /// <summary>The embeddings module (<c>{prefix}.embeddings</c>).</summary>
    public abstract TransformerEmbeddings Embeddings { get; }

    /// <summary>The encoder blocks (<c>{prefix}.encoder</c>; DistilBERT's <c>distilbert.transformer</c>): (embedded, additive mask) → hidden states.</summary>
    public abstract nn.Module<Tensor, Tensor, Tensor> Encoder { get; }

    /// <summary>The state-dict path of <see cref="Encoder"/>.</summary>
    public virtual string EncoderPath => $"{BaseModelPrefix}.encoder";

    /// <summary>What enters the encoder, from the embeddings' output (ELECTRA projects it to the hidden size).</summary>
    private protected virtual Tensor IntoEncoder(Tensor embedded) => embedded;

    /// <summary>
    /// State-dict prefixes a pretrained encoder checkpoint may lack; they keep their fresh initialization and are
    /// reported (the classification head; BERT's pooler too).
    /// </summary>
    public virtual IReadOnlyList<string> HeadPrefixes => ["classifier."];

    /// <summary>Keys Hugging Face checkpoints carry that this classifier does not use (other heads, buffers).</summary>
    public abstract IReadOnlyList<string> IgnorableCheckpointPrefixes { get; }

    /// <summary>Logits [batch, labels] from the last hidden state [batch, seq, hidden].</summary>
    protected abstract Tensor Classify(Tensor lastHiddenState);

    /// <summary>A model of <paramref name="config"/>'s architecture with Hugging Face's random initialization.</summary>
    public static SequenceClassifier Create(TransformerConfig config, ulong seed) => config switch
    {
        RobertaConfig roberta => RobertaForSequenceClassification.Create(roberta, seed), // XLM-RoBERTa too
        BertConfig bert => BertForSequenceClassification.Create(bert, seed),
        DistilBertConfig distilBert => DistilBertForSequenceClassification.Create(distilBert, seed),
        ElectraConfig electra => ElectraForSequenceClassification.Create(electra, seed),
        _ => throw new ArgumentException($"No classifier for model_type '{config.ModelType}'.", nameof(config)),
    };

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

    /// <summary>
    /// HF's _init_weights: Linear and Embedding weights ~ N(0, initializer_range), biases 0, LayerNorm
    /// weight 1 and bias 0, the padding row of each embedding with a padding index zeroed.
    /// </summary>
    public void InitializeWeights(ulong seed)
    {
        using var generator = new Generator(seed);
        using var noGrad = torch.no_grad();
        var padded = Embeddings.WithPaddingRow().ToHashSet();
        foreach (var (_, module) in ModuleTree.DepthFirst(this))
        {
            switch (module)
            {
                case SideBranchLinear linear:
                    linear.weight.normal_(0, Config.InitializerRange, generator);
                    linear.bias?.zero_();
                    break;
                case Embedding embedding:
                    embedding.weight!.normal_(0, Config.InitializerRange, generator);
                    if (padded.Contains(embedding))
                        using (var row = embedding.weight.select(0, Config.PadTokenId)) row.zero_();
                    break;
                case LayerNorm norm:
                    nn.init.ones_(norm.weight!);
                    norm.bias!.zero_();
                    break;
            }
        }
    }

    /// <summary>
    /// The managed weight matrices with their state-dict names: the encoder blocks' attention query/key/value/output
    /// and FFN weights. Embeddings, LayerNorm, biases, the pooler and the classification head are not managed.
    /// </summary>
    public IEnumerable<(string name, SideBranchLinear layer)> ManagedLinears() =>
        ModuleTree.DepthFirst(Encoder, EncoderPath)
            .Where(m => m.Module is SideBranchLinear)
            .Select(m => (m.Name + ".weight", (SideBranchLinear)m.Module));

    /// <summary>
    /// Logits [batch, labels] for token ids [batch, seq] (int64), an attention mask (1 = token, 0 = padding) and
    /// token type ids (segment A = 0, B = 1; zeros when null). With <paramref name="labels"/> the mean
    /// cross-entropy is returned too; with <paramref name="returnHiddenStates"/> the embeddings output and the
    /// last hidden state.
    /// </summary>
    public SequenceClassifierOutput forward(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds = null, Tensor? labels = null, bool returnHiddenStates = false)
    {
        CheckInputs(inputIds, attentionMask, tokenTypeIds);
        using var scope = torch.NewDisposeScope();
        var embedded = IntoEncoder(Embeddings.call(inputIds, tokenTypeIds ?? zeros_like(inputIds)));
        // (1 − mask) · float32.min on padded keys, broadcast over heads and query rows, as HF does.
        var additiveMask = attentionMask.to(ScalarType.Float32).sub_(Scalars.One).mul_(MinusFloatMin).view(inputIds.size(0), 1, 1, inputIds.size(1));
        var hidden = Encoder.call(embedded, additiveMask);
        var logits = Classify(hidden);
        var loss = labels is null ? null : F.cross_entropy(logits, labels);
        return new SequenceClassifierOutput
        {
            Logits = logits.MoveToOuterDisposeScope(),
            Loss = loss?.MoveToOuterDisposeScope(),
            EmbeddingsOutput = returnHiddenStates ? embedded.MoveToOuterDisposeScope() : null,
            LastHiddenState = returnHiddenStates ? hidden.MoveToOuterDisposeScope() : null,
        };
    }

    private void CheckInputs(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds)
    {
        if (inputIds.dim() != 2) throw new ArgumentException($"input_ids must be [batch, sequence], got shape {Shapes.Format(inputIds.shape)}.", nameof(inputIds));
        if (inputIds.dtype != ScalarType.Int64) throw new ArgumentException($"input_ids must be int64, got {inputIds.dtype}.", nameof(inputIds));
        if (!attentionMask.shape.SequenceEqual(inputIds.shape))
            throw new ArgumentException($"attention_mask shape {Shapes.Format(attentionMask.shape)} differs from input_ids shape {Shapes.Format(inputIds.shape)}.", nameof(attentionMask));
        if (tokenTypeIds is not null && !tokenTypeIds.shape.SequenceEqual(inputIds.shape))
            throw new ArgumentException($"token_type_ids shape {Shapes.Format(tokenTypeIds.shape)} differs from input_ids shape {Shapes.Format(inputIds.shape)}.", nameof(tokenTypeIds));
        var seq = inputIds.size(1);
        if (seq > Config.MaxSequenceLength)
            throw new ArgumentException($"Sequence length {seq} exceeds the model's maximum of {Config.MaxSequenceLength} tokens ({SequenceLimit}); truncate inputs.", nameof(inputIds));
        if (inputIds.numel() == 0) return;
        CheckRange(inputIds, Config.VocabSize, nameof(inputIds), "Token id", "vocabulary", "the tokenizer and the model's vocab_size disagree");
        if (tokenTypeIds is not null && Config.HasTokenTypes)
            CheckRange(tokenTypeIds, Config.TypeVocabSize, nameof(tokenTypeIds), "Token type id", "token types", "this model has type_vocab_size " + Config.TypeVocabSize);
    }

    /// <summary>Why the sequence limit is what it is, for the error message.</summary>
    private protected abstract string SequenceLimit { get; }

    private static void CheckRange(Tensor ids, int size, string parameter, string what, string range, string hint)
    {
        using var min = ids.min();
        using var max = ids.max();
        long lo = min.item<long>(), hi = max.item<long>();
        if (lo < 0 || hi >= size)
            throw new ArgumentOutOfRangeException(parameter, $"{what} {(lo < 0 ? lo : hi)} is outside the {range} [0, {size}); {hint}.");
    }
}
