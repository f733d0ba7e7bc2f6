using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Lorenza.Modeling;

/// <summary>HF's ElectraModel: BERT's embeddings at embedding_size, the projection to the hidden size when the two differ, BERT's encoder.</summary>
public sealed class ElectraModel : nn.Module
{
    public readonly TransformerEmbeddings embeddings;
    public readonly SideBranchLinear? embeddings_project;
    public readonly TransformerEncoder encoder;

    public ElectraModel(ElectraConfig config) : base(nameof(ElectraModel))
    {
        embeddings = new TransformerEmbeddings(config, PositionRule.Absolute);
        embeddings_project = config.EmbeddingSize != config.HiddenSize ? new SideBranchLinear(config.EmbeddingSize, config.HiddenSize) : null;
        encoder = new TransformerEncoder(config);
        RegisterComponents();
    }
}

/// <summary>ELECTRA's classification head on the first token: dropout, dense, GELU, dropout, out_proj.</summary>
public sealed class ElectraClassificationHead : nn.Module<Tensor, Tensor>
{
    private readonly ElectraConfig config;
    public readonly SideBranchLinear dense;
    public readonly SideBranchLinear out_proj;

    public ElectraClassificationHead(ElectraConfig config) : base(nameof(ElectraClassificationHead))
    {
        this.config = config;
        dense = new SideBranchLinear(config.HiddenSize, config.HiddenSize);
        out_proj = new SideBranchLinear(config.HiddenSize, config.NumLabels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor lastHiddenState)
    {
        using var scope = NewDisposeScope();
        var dropout = config.ClassifierDropout ?? config.HiddenDropoutProb;
        var first = F.dropout(lastHiddenState.select(1, 0), dropout, training);
        var hidden = F.dropout(F.gelu(dense.call(first)), dropout, training);
        return Precision.AtLeastFloat32(out_proj.call(hidden)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// ELECTRA (discriminator) for sequence classification (HF's ElectraForSequenceClassification): "electra.embeddings.…",
/// "electra.embeddings_project" (when embedding_size ≠ hidden_size), "electra.encoder.layer.N.…" (BERT's blocks), and the
/// head "classifier.dense" / "classifier.out_proj". Token types and absolute positions as BERT; no pooler.
/// </summary>
public sealed class ElectraForSequenceClassification : SequenceClassifier
{
    public readonly ElectraModel electra;
    public readonly ElectraClassificationHead classifier;

    public ElectraForSequenceClassification(ElectraConfig config) : base(nameof(ElectraForSequenceClassification), config)
    {
        electra = new ElectraModel(config);
        classifier = new ElectraClassificationHead(config);
        RegisterComponents();
    }

    public override string BaseModelPrefix => "electra";
    public override TransformerEmbeddings Embeddings => electra.embeddings;
    public override nn.Module<Tensor, Tensor, Tensor> Encoder => electra.encoder;
    public override IReadOnlyList<string> IgnorableCheckpointPrefixes { get; } =
        ["discriminator_predictions.", "generator_predictions.", "generator_lm_head.", "electra.embeddings.position_ids", "electra.embeddings.token_type_ids"];

    private protected override string SequenceLimit => $"max_position_embeddings {Config.MaxPositionEmbeddings}";

    private protected override Tensor IntoEncoder(Tensor embedded)
    {
        return electra.embeddings_project is { } project ? project.call(embedded) : embedded;
    }

    /// <summary>A model with Hugging Face's random initialization, reproducible from <paramref name="seed"/>.</summary>
    public static ElectraForSequenceClassification Create(ElectraConfig config, ulong seed)
    {
        var model = new ElectraForSequenceClassification(config);
        model.InitializeWeights(seed);
        return model;
    }

    protected override Tensor Classify(Tensor lastHiddenState) => classifier.call(lastHiddenState);
}
