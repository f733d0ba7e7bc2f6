using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using static Microsoft.ML.Lorenza.Runtime.Scalars;

namespace Microsoft.ML.Lorenza.Modeling;

/// <summary>DistilBERT's multi-head self-attention: q_lin, k_lin, v_lin, then out_lin on the merged heads.</summary>
public sealed class DistilBertSelfAttention : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly TransformerConfig config;
    private readonly Scalar sqrtHeadDim; // as long as the module lives (docs/engine.md, "TorchSharp notes")
    public readonly SideBranchLinear q_lin;
    public readonly SideBranchLinear k_lin;
    public readonly SideBranchLinear v_lin;
    public readonly SideBranchLinear out_lin;

    public DistilBertSelfAttention(TransformerConfig config) : base(nameof(DistilBertSelfAttention))
    {
        this.config = config;
        sqrtHeadDim = Math.Sqrt(config.HeadDim).ToScalar();
        q_lin = new SideBranchLinear(config.HiddenSize, config.HiddenSize);
        k_lin = new SideBranchLinear(config.HiddenSize, config.HiddenSize);
        v_lin = new SideBranchLinear(config.HiddenSize, config.HiddenSize);
        out_lin = new SideBranchLinear(config.HiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    /// <summary>out_lin(softmax(q·kᵀ/√d + mask)·v): the same arithmetic as BERT's attention (DistilBERT scales q before the
    /// product and fills masked scores with the dtype's minimum; both give the same probabilities).</summary>
    public override Tensor forward(Tensor x, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        long batch = x.size(0), seq = x.size(1);
        Tensor Heads(SideBranchLinear projection) => projection.call(x).view(batch, seq, config.NumAttentionHeads, config.HeadDim).transpose(1, 2);
        var context = TransformerSelfAttention.Attend(Heads(q_lin), Heads(k_lin), Heads(v_lin), additiveMask, config, sqrtHeadDim, training);
        return out_lin.call(context).MoveToOuterDisposeScope();
    }
}

/// <summary>DistilBERT's feed-forward network: lin2(gelu(lin1(x))), then dropout.</summary>
public sealed class DistilBertFeedForward : nn.Module<Tensor, Tensor>
{
    private readonly TransformerConfig config;
    public readonly SideBranchLinear lin1;
    public readonly SideBranchLinear lin2;

    public DistilBertFeedForward(TransformerConfig config) : base(nameof(DistilBertFeedForward))
    {
        this.config = config;
        lin1 = new SideBranchLinear(config.HiddenSize, config.IntermediateSize);
        lin2 = new SideBranchLinear(config.IntermediateSize, config.HiddenSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return F.dropout(lin2.call(F.gelu(lin1.call(x))), config.HiddenDropoutProb, training).MoveToOuterDisposeScope();
    }
}

/// <summary>One DistilBERT block: sa_layer_norm(x + attention(x)), then output_layer_norm(h + ffn(h)) (post-LN, as BERT's).</summary>
public sealed class DistilBertBlock : nn.Module<Tensor, Tensor, Tensor>
{
    public readonly DistilBertSelfAttention attention;
    public readonly LayerNorm sa_layer_norm;
    public readonly DistilBertFeedForward ffn;
    public readonly LayerNorm output_layer_norm;

    public DistilBertBlock(TransformerConfig config) : base(nameof(DistilBertBlock))
    {
        attention = new DistilBertSelfAttention(config);
        sa_layer_norm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        ffn = new DistilBertFeedForward(config);
        output_layer_norm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        var attended = attention.call(x, additiveMask);
        var h = sa_layer_norm.call((attended.dtype == x.dtype ? attended : attended.to(x.dtype)).add_(x, One));
        var f = ffn.call(h);
        return output_layer_norm.call((f.dtype == h.dtype ? f : f.to(h.dtype)).add_(h, One)).MoveToOuterDisposeScope();
    }
}

/// <summary>DistilBERT's "transformer": the blocks, named "layer.0", "layer.1", ...</summary>
public sealed class DistilBertTransformer : nn.Module<Tensor, Tensor, Tensor>
{
    public readonly ModuleList<DistilBertBlock> layer;

    public DistilBertTransformer(TransformerConfig config) : base(nameof(DistilBertTransformer))
    {
        layer = nn.ModuleList(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new DistilBertBlock(config)).ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor embedded, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        var hidden = embedded;
        foreach (var block in layer) hidden = block.call(hidden, additiveMask);
        return hidden.MoveToOuterDisposeScope();
    }
}

/// <summary>HF's DistilBertModel: embeddings (word + absolute position, no token types) and the transformer.</summary>
public sealed class DistilBertModel : nn.Module
{
    public readonly TransformerEmbeddings embeddings;
    public readonly DistilBertTransformer transformer;

    public DistilBertModel(DistilBertConfig config) : base(nameof(DistilBertModel))
    {
        embeddings = new TransformerEmbeddings(config, PositionRule.Absolute);
        transformer = new DistilBertTransformer(config);
        RegisterComponents();
    }
}

/// <summary>
/// DistilBERT for sequence classification (HF's DistilBertForSequenceClassification): "distilbert.embeddings.…",
/// "distilbert.transformer.layer.N.attention.q_lin/k_lin/v_lin/out_lin", "ffn.lin1/lin2", "sa_layer_norm",
/// "output_layer_norm", then "pre_classifier" (ReLU, dropout seq_classif_dropout) and "classifier" on the first token.
/// The optimizers manage q/k/v/out and the FFN matrices, as BERT's. Sinusoidal positions (sinusoidal_pos_embds) are a
/// fixed, untrained table.
/// </summary>
public sealed class DistilBertForSequenceClassification : SequenceClassifier
{
    public readonly DistilBertModel distilbert;
    public readonly SideBranchLinear pre_classifier;
    public readonly SideBranchLinear classifier;

    public DistilBertForSequenceClassification(DistilBertConfig config) : base(nameof(DistilBertForSequenceClassification), config)
    {
        distilbert = new DistilBertModel(config);
        pre_classifier = new SideBranchLinear(config.HiddenSize, config.HiddenSize);
        classifier = new SideBranchLinear(config.HiddenSize, config.NumLabels);
        RegisterComponents();
        if (config.SinusoidalPositions) distilbert.embeddings.position_embeddings.weight!.requires_grad_(false);
    }

    public override string BaseModelPrefix => "distilbert";
    public override TransformerEmbeddings Embeddings => distilbert.embeddings;
    public override nn.Module<Tensor, Tensor, Tensor> Encoder => distilbert.transformer;
    public override string EncoderPath => "distilbert.transformer";
    public override IReadOnlyList<string> HeadPrefixes { get; } = ["classifier.", "pre_classifier."];
    public override IReadOnlyList<string> IgnorableCheckpointPrefixes { get; } =
        ["vocab_transform.", "vocab_layer_norm.", "vocab_projector.", "distilbert.embeddings.position_ids", "qa_outputs."];

    private protected override string SequenceLimit => $"max_position_embeddings {Config.MaxPositionEmbeddings}";

    /// <summary>A model with Hugging Face's random initialization, reproducible from <paramref name="seed"/>.</summary>
    public static DistilBertForSequenceClassification Create(DistilBertConfig config, ulong seed)
    {
        var model = new DistilBertForSequenceClassification(config);
        model.InitializeWeights(seed);
        if (config.SinusoidalPositions) FillSinusoidal(model.distilbert.embeddings.position_embeddings.weight!);
        return model;
    }

    /// <summary>HF's sinusoidal table: row p, column j = sin(p / 10000^(2⌊j/2⌋/dim)) for even j, cos for odd j.</summary>
    public static void FillSinusoidal(Tensor table)
    {
        long positions = table.size(0), dim = table.size(1);
        var values = new float[positions * dim];
        for (long p = 0; p < positions; p++)
            for (long j = 0; j < dim; j++)
            {
                var angle = p / Math.Pow(10000, 2.0 * (j / 2) / dim);
                values[p * dim + j] = (float)(j % 2 == 0 ? Math.Sin(angle) : Math.Cos(angle));
            }
        using var noGrad = torch.no_grad();
        using var source = torch.tensor(values, [positions, dim]);
        table.copy_(source);
    }

    /// <summary>Logits [batch, labels] (float32 when the model computes in a 16-bit type): classifier(dropout(relu(pre_classifier(h[:, 0])))).</summary>
    protected override Tensor Classify(Tensor lastHiddenState)
    {
        using var scope = NewDisposeScope();
        var hidden = F.relu(pre_classifier.call(lastHiddenState.select(1, 0)));
        var dropped = F.dropout(hidden, Config.ClassifierDropout ?? Config.HiddenDropoutProb, training);
        return Precision.AtLeastFloat32(classifier.call(dropped)).MoveToOuterDisposeScope();
    }
}
