using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Lorenza.Modeling;

/// <summary>BERT's pooler: dense + tanh on the first token ([CLS]).</summary>
public sealed class BertPooler : nn.Module<Tensor, Tensor>
{
    public readonly SideBranchLinear dense;

    public BertPooler(BertConfig config) : base(nameof(BertPooler))
    {
        dense = new SideBranchLinear(config.HiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor lastHiddenState)
    {
        using var scope = NewDisposeScope();
        return dense.call(lastHiddenState.select(1, 0)).tanh().MoveToOuterDisposeScope();
    }
}

/// <summary>HF's BertModel: embeddings (absolute positions, token types), encoder, pooler.</summary>
public sealed class BertModel : nn.Module
{
    public readonly TransformerEmbeddings embeddings;
    public readonly TransformerEncoder encoder;
    public readonly BertPooler pooler;

    public BertModel(BertConfig config) : base(nameof(BertModel))
    {
        embeddings = new TransformerEmbeddings(config, PositionRule.Absolute);
        encoder = new TransformerEncoder(config);
        pooler = new BertPooler(config);
        RegisterComponents();
    }
}

/// <summary>
/// BERT for sequence classification (HF's BertForSequenceClassification): "bert.embeddings.…",
/// "bert.encoder.layer.N.…", "bert.pooler.dense", then dropout and a linear "classifier" on the pooled [CLS].
/// </summary>
public sealed class BertForSequenceClassification : SequenceClassifier
{
    public readonly BertModel bert;
    public readonly SideBranchLinear classifier;

    public BertForSequenceClassification(BertConfig config) : base(nameof(BertForSequenceClassification), config)
    {
        bert = new BertModel(config);
        classifier = new SideBranchLinear(config.HiddenSize, config.NumLabels);
        RegisterComponents();
    }

    public override string BaseModelPrefix => "bert";
    public override TransformerEmbeddings Embeddings => bert.embeddings;
    public override nn.Module<Tensor, Tensor, Tensor> Encoder => bert.encoder;
    public override IReadOnlyList<string> HeadPrefixes { get; } = ["classifier.", "bert.pooler."];
    public override IReadOnlyList<string> IgnorableCheckpointPrefixes { get; } =
        ["cls.", "bert.embeddings.position_ids", "bert.embeddings.token_type_ids"];

    private protected override string SequenceLimit => $"max_position_embeddings {Config.MaxPositionEmbeddings}";

    /// <summary>A model with Hugging Face's random initialization, reproducible from <paramref name="seed"/>.</summary>
    public static BertForSequenceClassification Create(BertConfig config, ulong seed)
    {
        var model = new BertForSequenceClassification(config);
        model.InitializeWeights(seed);
        return model;
    }

    /// <summary>Logits [batch, labels] (float32 when the model computes in a 16-bit type): classifier(dropout(pooler)).</summary>
    protected override Tensor Classify(Tensor lastHiddenState)
    {
        using var scope = NewDisposeScope();
        var pooled = bert.pooler.call(lastHiddenState);
        var dropped = F.dropout(pooled, Config.ClassifierDropout ?? Config.HiddenDropoutProb, training);
        return Precision.AtLeastFloat32(classifier.call(dropped)).MoveToOuterDisposeScope();
    }
}
