using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Lorenza.Modeling;

/// <summary>HF's RobertaModel without the pooler (the classifier uses add_pooling_layer=False).</summary>
public sealed class RobertaModel : nn.Module
{
    public readonly TransformerEmbeddings embeddings;
    public readonly TransformerEncoder encoder;

    public RobertaModel(RobertaConfig config) : base(nameof(RobertaModel))
    {
        embeddings = new TransformerEmbeddings(config, PositionRule.PaddingOffset);
        encoder = new TransformerEncoder(config);
        RegisterComponents();
    }
}

/// <summary>The classification head on the first token (&lt;s&gt;): dropout, dense, tanh, dropout, out_proj.</summary>
public sealed class RobertaClassificationHead : nn.Module<Tensor, Tensor>
{
    private readonly RobertaConfig config;
    public readonly SideBranchLinear dense;
    public readonly SideBranchLinear out_proj;

    public RobertaClassificationHead(RobertaConfig config) : base(nameof(RobertaClassificationHead))
    {
        this.config = config;
        dense = new SideBranchLinear(config.HiddenSize, config.HiddenSize);
        out_proj = new SideBranchLinear(config.HiddenSize, config.NumLabels);
        RegisterComponents();
    }

    /// <summary>Logits [batch, labels], in float32 when the model computes in a 16-bit type.</summary>
    public override Tensor forward(Tensor lastHiddenState)
    {
        using var scope = NewDisposeScope();
        var dropout = config.ClassifierDropout ?? config.HiddenDropoutProb;
        var first = F.dropout(lastHiddenState.select(1, 0), dropout, training);
        var hidden = F.dropout(dense.call(first).tanh(), dropout, training);
        return Precision.AtLeastFloat32(out_proj.call(hidden)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// RoBERTa for sequence classification (HF's RobertaForSequenceClassification): parameter names match
/// Hugging Face state dicts ("roberta.encoder.layer.0.attention.self.query.weight", "classifier.out_proj.bias").
/// Positions follow RoBERTa's padding-offset rule.
/// </summary>
public sealed class RobertaForSequenceClassification : SequenceClassifier
{
    public readonly RobertaModel roberta;
    public readonly RobertaClassificationHead classifier;

    public RobertaForSequenceClassification(RobertaConfig config) : base(nameof(RobertaForSequenceClassification), config)
    {
        roberta = new RobertaModel(config);
        classifier = new RobertaClassificationHead(config);
        RegisterComponents();
    }

    public override string BaseModelPrefix => "roberta";
    public override TransformerEmbeddings Embeddings => roberta.embeddings;
    public override nn.Module<Tensor, Tensor, Tensor> Encoder => roberta.encoder;
    public override IReadOnlyList<string> IgnorableCheckpointPrefixes { get; } =
        ["roberta.pooler.", "lm_head.", "roberta.embeddings.position_ids", "roberta.embeddings.token_type_ids"];

    private protected override string SequenceLimit => $"max_position_embeddings {Config.MaxPositionEmbeddings} − padding offset {Config.PadTokenId + 1}";

    /// <summary>A model with Hugging Face's random initialization, reproducible from <paramref name="seed"/>.</summary>
    public static RobertaForSequenceClassification Create(RobertaConfig config, ulong seed)
    {
        var model = new RobertaForSequenceClassification(config);
        model.InitializeWeights(seed);
        return model;
    }

    protected override Tensor Classify(Tensor lastHiddenState) => classifier.call(lastHiddenState);
}
