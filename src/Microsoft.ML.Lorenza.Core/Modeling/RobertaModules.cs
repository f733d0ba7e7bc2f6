using Microsoft.ML.Lorenza.Torch;
using F = Microsoft.ML.Lorenza.Torch.torch.nn.functional;

namespace Microsoft.ML.Lorenza.Modeling;

// The building blocks of RoBERTa, with Hugging Face's module and parameter names so a state dict
// maps one to one (e.g. "encoder.layer.0.attention.self.query.weight").

/// <summary>Word + position + token-type embeddings, then LayerNorm and dropout.</summary>
public sealed class RobertaEmbeddings : Module
{
    private readonly RobertaConfig config;

    public RobertaEmbeddings(RobertaConfig config)
    {
        this.config = config;
        word_embeddings = register_module("word_embeddings", new Embedding(config.VocabSize, config.HiddenSize, config.PadTokenId));
        position_embeddings = register_module("position_embeddings", new Embedding(config.MaxPositionEmbeddings, config.HiddenSize, config.PadTokenId));
        token_type_embeddings = register_module("token_type_embeddings", new Embedding(config.TypeVocabSize, config.HiddenSize));
        LayerNorm = register_module("LayerNorm", new LayerNorm(config.HiddenSize, config.LayerNormEps));
    }

    public Embedding word_embeddings { get; }
    public Embedding position_embeddings { get; }
    public Embedding token_type_embeddings { get; }
    public LayerNorm LayerNorm { get; }

    /// <summary>
    /// RoBERTa's positions: real tokens count up from pad + 1, pad tokens sit at the padding index
    /// (cumsum of the non-pad mask, times the mask, plus pad). Derived from the ids, not the attention mask.
    /// </summary>
    public Tensor PositionIds(Tensor inputIds)
    {
        using var scope = torch.NewDisposeScope();
        var mask = inputIds.ne(config.PadTokenId).to(ScalarType.Int64);
        return (mask.cumsum(1) * mask + config.PadTokenId).MoveToOuterDisposeScope();
    }

    public Tensor forward(Tensor inputIds)
    {
        using var scope = torch.NewDisposeScope();
        var positions = PositionIds(inputIds);
        var tokenTypes = torch.zeros_like(inputIds);
        var sum = word_embeddings.forward(inputIds) + position_embeddings.forward(positions) + token_type_embeddings.forward(tokenTypes);
        var normed = LayerNorm.forward(sum);
        return F.dropout(normed, config.HiddenDropoutProb, training).MoveToOuterDisposeScope();
    }
}

/// <summary>Multi-head self-attention's projections (HF: attention.self.query/key/value).</summary>
public sealed class RobertaSelfAttention : Module
{
    private readonly RobertaConfig config;

    public RobertaSelfAttention(RobertaConfig config)
    {
        this.config = config;
        query = register_module("query", new Linear(config.HiddenSize, config.HiddenSize));
        key = register_module("key", new Linear(config.HiddenSize, config.HiddenSize));
        value = register_module("value", new Linear(config.HiddenSize, config.HiddenSize));
    }

    public Linear query { get; }
    public Linear key { get; }
    public Linear value { get; }

    /// <param name="x">[batch, seq, hidden]</param>
    /// <param name="additiveMask">[batch, 1, 1, seq]: 0 on real keys, float32 min on padding.</param>
    public Tensor forward(Tensor x, Tensor additiveMask)
    {
        using var scope = torch.NewDisposeScope();
        long batch = x.size(0), seq = x.size(1);
        int heads = config.NumAttentionHeads, headDim = config.HeadDim;
        Tensor Heads(Linear projection) => projection.forward(x).view(batch, seq, heads, headDim).transpose(1, 2);
        var q = Heads(query);
        var k = Heads(key);
        var v = Heads(value);
        var scores = torch.matmul(q, k.transpose(-1, -2)).div_(Math.Sqrt(headDim)).add_(additiveMask);
        var probabilities = F.dropout(F.softmax(scores, -1), config.AttentionProbsDropoutProb, training);
        var context = torch.matmul(probabilities, v).transpose(1, 2).reshape(batch, seq, config.HiddenSize);
        return context.MoveToOuterDisposeScope();
    }
}

/// <summary>A dense layer, dropout, and a residual LayerNorm (HF's RobertaSelfOutput / RobertaOutput).</summary>
public sealed class RobertaResidualOutput : Module
{
    private readonly RobertaConfig config; // dropout is read at forward time, so changing the config takes effect

    public RobertaResidualOutput(long inFeatures, RobertaConfig config)
    {
        this.config = config;
        dense = register_module("dense", new Linear(inFeatures, config.HiddenSize));
        LayerNorm = register_module("LayerNorm", new LayerNorm(config.HiddenSize, config.LayerNormEps));
    }

    public Linear dense { get; }
    public LayerNorm LayerNorm { get; }

    public Tensor forward(Tensor hidden, Tensor residual)
    {
        using var scope = torch.NewDisposeScope();
        var projected = F.dropout(dense.forward(hidden), config.HiddenDropoutProb, training);
        return LayerNorm.forward(projected + residual).MoveToOuterDisposeScope();
    }
}

/// <summary>HF's RobertaAttention: "self" (projections) and "output" (dense + residual LayerNorm).</summary>
public sealed class RobertaAttention : Module
{
    public RobertaAttention(RobertaConfig config)
    {
        self = register_module("self", new RobertaSelfAttention(config));
        output = register_module("output", new RobertaResidualOutput(config.HiddenSize, config));
    }

    public RobertaSelfAttention self { get; }
    public RobertaResidualOutput output { get; }

    public Tensor forward(Tensor x, Tensor additiveMask)
    {
        using var context = self.forward(x, additiveMask);
        return output.forward(context, x);
    }
}

/// <summary>The FFN's first half: dense to the intermediate size, exact GELU (HF: intermediate.dense).</summary>
public sealed class RobertaIntermediate : Module
{
    public RobertaIntermediate(RobertaConfig config) =>
        dense = register_module("dense", new Linear(config.HiddenSize, config.IntermediateSize));

    public Linear dense { get; }

    public Tensor forward(Tensor x)
    {
        using var projected = dense.forward(x);
        return F.gelu(projected);
    }
}

/// <summary>One post-LN transformer block: LN(x + Attn(x)), then LN(h + W2·gelu(W1·h)).</summary>
public sealed class RobertaLayer : Module
{
    public RobertaLayer(RobertaConfig config)
    {
        attention = register_module("attention", new RobertaAttention(config));
        intermediate = register_module("intermediate", new RobertaIntermediate(config));
        output = register_module("output", new RobertaResidualOutput(config.IntermediateSize, config));
    }

    public RobertaAttention attention { get; }
    public RobertaIntermediate intermediate { get; }
    public RobertaResidualOutput output { get; }

    public Tensor forward(Tensor x, Tensor additiveMask)
    {
        using var scope = torch.NewDisposeScope();
        var h = attention.forward(x, additiveMask);
        return output.forward(intermediate.forward(h), h).MoveToOuterDisposeScope();
    }
}

/// <summary>The classification head on the first token (&lt;s&gt;): dropout, dense, tanh, dropout, out_proj.</summary>
public sealed class RobertaClassificationHead : Module
{
    private readonly RobertaConfig config;

    public RobertaClassificationHead(RobertaConfig config)
    {
        this.config = config;
        dense = register_module("dense", new Linear(config.HiddenSize, config.HiddenSize));
        out_proj = register_module("out_proj", new Linear(config.HiddenSize, config.NumLabels));
    }

    public Linear dense { get; }
    public Linear out_proj { get; }

    public Tensor forward(Tensor lastHiddenState)
    {
        using var scope = torch.NewDisposeScope();
        var dropout = config.ClassifierDropout ?? config.HiddenDropoutProb;
        var first = F.dropout(lastHiddenState.select(1, 0), dropout, training);
        var hidden = F.dropout(dense.forward(first).tanh(), dropout, training);
        return out_proj.forward(hidden).MoveToOuterDisposeScope();
    }
}
