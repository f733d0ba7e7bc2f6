using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using static Microsoft.ML.Lorenza.Runtime.Scalars;

namespace Microsoft.ML.Lorenza.Modeling;

// The building blocks of RoBERTa as TorchSharp modules. Each field holding a sub-module or parameter carries
// Hugging Face's name (RegisterComponents registers fields by name), so a state dict maps one to one
// (e.g. "encoder.layer.0.attention.self.query.weight").

/// <summary>Word + position + token-type embeddings, then LayerNorm and dropout.</summary>
public sealed class RobertaEmbeddings : nn.Module<Tensor, Tensor>
{
    private readonly RobertaConfig config;
    private readonly Scalar padTokenId; // as long as the module lives (README, "TorchSharp notes")
    public readonly Embedding word_embeddings;
    public readonly Embedding position_embeddings;
    public readonly Embedding token_type_embeddings;
    public readonly LayerNorm LayerNorm;

    public RobertaEmbeddings(RobertaConfig config) : base(nameof(RobertaEmbeddings))
    {
        this.config = config;
        padTokenId = ((long)config.PadTokenId).ToScalar();
        word_embeddings = nn.Embedding(config.VocabSize, config.HiddenSize, padding_idx: config.PadTokenId);
        position_embeddings = nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize, padding_idx: config.PadTokenId);
        token_type_embeddings = nn.Embedding(config.TypeVocabSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        RegisterComponents();
    }

    /// <summary>
    /// RoBERTa's positions: real tokens count up from pad + 1, pad tokens sit at the padding index
    /// (cumsum of the non-pad mask, times the mask, plus pad). Derived from the ids, not the attention mask.
    /// </summary>
    public Tensor PositionIds(Tensor inputIds)
    {
        using var scope = NewDisposeScope();
        var mask = inputIds.ne(padTokenId).to(ScalarType.Int64);
        return mask.cumsum(1).mul_(mask).add_(padTokenId).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor inputIds)
    {
        using var scope = NewDisposeScope();
        var positions = PositionIds(inputIds);
        var tokenTypes = zeros_like(inputIds);
        var sum = word_embeddings.call(inputIds).add_(position_embeddings.call(positions), One).add_(token_type_embeddings.call(tokenTypes), One);
        return F.dropout(LayerNorm.call(sum), config.HiddenDropoutProb, training).MoveToOuterDisposeScope();
    }
}

/// <summary>Multi-head self-attention's projections (HF: attention.self.query/key/value).</summary>
public sealed class RobertaSelfAttention : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly RobertaConfig config;
    private readonly Scalar sqrtHeadDim; // as long as the module lives (README, "TorchSharp notes")
    public readonly SideBranchLinear query;
    public readonly SideBranchLinear key;
    public readonly SideBranchLinear value;

    public RobertaSelfAttention(RobertaConfig config) : base(nameof(RobertaSelfAttention))
    {
        this.config = config;
        sqrtHeadDim = Math.Sqrt(config.HeadDim).ToScalar();
        query = new SideBranchLinear(config.HiddenSize, config.HiddenSize);
        key = new SideBranchLinear(config.HiddenSize, config.HiddenSize);
        value = new SideBranchLinear(config.HiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    /// <param name="x">[batch, seq, hidden]</param>
    /// <param name="additiveMask">[batch, 1, 1, seq], float32: 0 on real keys, float32 min on padding.</param>
    public override Tensor forward(Tensor x, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        long batch = x.size(0), seq = x.size(1);
        int heads = config.NumAttentionHeads, headDim = config.HeadDim;
        Tensor Heads(SideBranchLinear projection) => projection.call(x).view(batch, seq, heads, headDim).transpose(1, 2);
        var q = Heads(query);
        var k = Heads(key);
        var v = Heads(value);
        // Scores and softmax in at least float32 (as autocast does for bfloat16); the products in q's type.
        var scores = Precision.AtLeastFloat32(matmul(q, k.transpose(-1, -2)).div_(sqrtHeadDim)).add_(additiveMask);
        var probabilities = F.dropout(F.softmax(scores, -1), config.AttentionProbsDropoutProb, training).to(v.dtype);
        var context = matmul(probabilities, v).transpose(1, 2).reshape(batch, seq, config.HiddenSize);
        return context.MoveToOuterDisposeScope();
    }
}

/// <summary>A dense layer, dropout, and a residual LayerNorm (HF's RobertaSelfOutput / RobertaOutput).</summary>
public sealed class RobertaResidualOutput : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly RobertaConfig config; // dropout is read at forward time, so changing the config takes effect
    public readonly SideBranchLinear dense;
    public readonly LayerNorm LayerNorm;

    public RobertaResidualOutput(long inFeatures, RobertaConfig config) : base(nameof(RobertaResidualOutput))
    {
        this.config = config;
        dense = new SideBranchLinear(inFeatures, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        RegisterComponents();
    }

    /// <summary>LayerNorm(dropout(dense(hidden)) + residual), in float32 (the residual stream's type).</summary>
    public override Tensor forward(Tensor hidden, Tensor residual)
    {
        using var scope = NewDisposeScope();
        var projected = F.dropout(dense.call(hidden), config.HiddenDropoutProb, training);
        var sum = (projected.dtype == residual.dtype ? projected : projected.to(residual.dtype)).add(residual, One);
        return LayerNorm.call(sum).MoveToOuterDisposeScope();
    }
}

/// <summary>HF's RobertaAttention: "self" (projections) and "output" (dense + residual LayerNorm).</summary>
public sealed class RobertaAttention : nn.Module<Tensor, Tensor, Tensor>
{
    public readonly RobertaSelfAttention self;
    public readonly RobertaResidualOutput output;

    public RobertaAttention(RobertaConfig config) : base(nameof(RobertaAttention))
    {
        self = new RobertaSelfAttention(config);
        output = new RobertaResidualOutput(config.HiddenSize, config);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor additiveMask)
    {
        using var context = self.call(x, additiveMask);
        return output.call(context, x);
    }
}

/// <summary>The FFN's first half: dense to the intermediate size, exact GELU (HF: intermediate.dense).</summary>
public sealed class RobertaIntermediate : nn.Module<Tensor, Tensor>
{
    public readonly SideBranchLinear dense;

    public RobertaIntermediate(RobertaConfig config) : base(nameof(RobertaIntermediate))
    {
        dense = new SideBranchLinear(config.HiddenSize, config.IntermediateSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var projected = dense.call(x);
        return F.gelu(projected);
    }
}

/// <summary>One post-LN transformer block: LN(x + Attn(x)), then LN(h + W2·gelu(W1·h)).</summary>
public sealed class RobertaLayer : nn.Module<Tensor, Tensor, Tensor>
{
    public readonly RobertaAttention attention;
    public readonly RobertaIntermediate intermediate;
    public readonly RobertaResidualOutput output;

    public RobertaLayer(RobertaConfig config) : base(nameof(RobertaLayer))
    {
        attention = new RobertaAttention(config);
        intermediate = new RobertaIntermediate(config);
        output = new RobertaResidualOutput(config.IntermediateSize, config);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        var h = attention.call(x, additiveMask);
        return output.call(intermediate.call(h), h).MoveToOuterDisposeScope();
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

/// <summary>The reduced-precision rule: 16-bit results go up to float32 where autocast would (softmax, logits).</summary>
internal static class Precision
{
    public static Tensor AtLeastFloat32(Tensor t) => t.dtype is ScalarType.BFloat16 or ScalarType.Float16 ? t.to(ScalarType.Float32) : t;
}
