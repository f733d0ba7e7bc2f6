using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using static Microsoft.ML.Lorenza.Runtime.Scalars;

namespace Microsoft.ML.Lorenza.Modeling;

// The building blocks RoBERTa and BERT share, as TorchSharp modules: the two architectures' encoder blocks
// have the same names and math, parameterized by the config's hidden size, heads, FFN size, LayerNorm eps
// and dropouts. Each field holding a sub-module or parameter carries Hugging Face's name (RegisterComponents
// registers fields by name), so a state dict maps one to one (e.g. "encoder.layer.0.attention.self.query.weight").

/// <summary>How an architecture numbers positions.</summary>
public enum PositionRule
{
    /// <summary>BERT: 0, 1, …, T−1 for every row, padding included.</summary>
    Absolute,

    /// <summary>RoBERTa: real tokens count up from pad + 1, pad tokens sit at the padding index (derived from the ids).</summary>
    PaddingOffset,
}

/// <summary>Word + position + token-type embeddings, then LayerNorm and dropout.</summary>
public sealed class TransformerEmbeddings : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly TransformerConfig config;
    private readonly Scalar padTokenId; // as long as the module lives (docs/engine.md, "TorchSharp notes")
    public readonly Embedding word_embeddings;
    public readonly Embedding position_embeddings;
    /// <summary>Null for a family without token types (DistilBERT): token type ids are then ignored.</summary>
    public readonly Embedding? token_type_embeddings;
    public readonly LayerNorm LayerNorm;

    public TransformerEmbeddings(TransformerConfig config, PositionRule positions) : base(nameof(TransformerEmbeddings))
    {
        this.config = config;
        Positions = positions;
        padTokenId = ((long)config.PadTokenId).ToScalar();
        var width = config.EmbeddingWidth; // ELECTRA's embedding_size; the hidden size elsewhere
        word_embeddings = nn.Embedding(config.VocabSize, width, padding_idx: config.PadTokenId);
        // RoBERTa's position table has a padding row (pad tokens' position); BERT's has none.
        position_embeddings = positions == PositionRule.PaddingOffset
            ? nn.Embedding(config.MaxPositionEmbeddings, width, padding_idx: config.PadTokenId)
            : nn.Embedding(config.MaxPositionEmbeddings, width);
        token_type_embeddings = config.HasTokenTypes ? nn.Embedding(config.TypeVocabSize, width) : null;
        LayerNorm = nn.LayerNorm(width, config.LayerNormEps);
        RegisterComponents();
    }

    public PositionRule Positions { get; }

    /// <summary>The rows zeroed at initialization (HF zeroes each padding_idx row): word and, for RoBERTa, position.</summary>
    internal IEnumerable<Embedding> WithPaddingRow() =>
        Positions == PositionRule.PaddingOffset ? [word_embeddings, position_embeddings] : [word_embeddings];

    /// <summary>
    /// Position ids [batch, seq]. RoBERTa: cumsum of the non-pad mask, times the mask, plus pad (from the ids,
    /// not the attention mask). BERT: 0..T−1 in every row.
    /// </summary>
    public Tensor PositionIds(Tensor inputIds)
    {
        using var scope = NewDisposeScope();
        if (Positions == PositionRule.Absolute)
        {
            using var length = inputIds.size(1).ToScalar(); // explicit Scalar: docs/engine.md, "TorchSharp notes"
            return arange(length, ScalarType.Int64, inputIds.device).unsqueeze(0).expand(inputIds.size(0), -1).MoveToOuterDisposeScope();
        }
        var mask = inputIds.ne(padTokenId).to(ScalarType.Int64);
        return mask.cumsum(1).mul_(mask).add_(padTokenId).MoveToOuterDisposeScope();
    }

    /// <param name="inputIds">[batch, seq] int64.</param>
    /// <param name="tokenTypeIds">[batch, seq] int64 (zeros for single sentences; ignored without a token-type table).</param>
    public override Tensor forward(Tensor inputIds, Tensor tokenTypeIds)
    {
        using var scope = NewDisposeScope();
        var positions = PositionIds(inputIds);
        var sum = word_embeddings.call(inputIds).add_(position_embeddings.call(positions), One);
        if (token_type_embeddings is not null) sum.add_(token_type_embeddings.call(tokenTypeIds), One);
        return F.dropout(LayerNorm.call(sum), config.HiddenDropoutProb, training).MoveToOuterDisposeScope();
    }
}

/// <summary>Multi-head self-attention's projections (HF: attention.self.query/key/value).</summary>
public sealed class TransformerSelfAttention : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly TransformerConfig config;
    private readonly Scalar sqrtHeadDim; // as long as the module lives (docs/engine.md, "TorchSharp notes")
    public readonly SideBranchLinear query;
    public readonly SideBranchLinear key;
    public readonly SideBranchLinear value;

    /// <summary>
    /// On CUDA, attention through libtorch's fused scaled_dot_product_attention (softmax in float32 inside it, as here)
    /// instead of the seven kernels below: on an H200 (test/gpu/run.sh) the same losses as the CPU's within 2.3e-7 in
    /// float32, 3 % faster AdamW and 15 % faster LORENZA steps at roberta-base shapes, 500 MB less memory. The CPU keeps
    /// the explicit form (Hugging Face's arithmetic, checked against PyTorch). Settable for the measurements.
    /// </summary>
    internal static bool FusedOnGpu { get; set; } = true;

    /// <summary>The fused form on the CPU too (off: measured no faster there, see `bench bf16-cpu-options`); for the measurement.</summary>
    internal static bool FusedOnCpu { get; set; }

    public TransformerSelfAttention(TransformerConfig config) : base(nameof(TransformerSelfAttention))
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
        return Attend(Heads(query), Heads(key), Heads(value), additiveMask, config, sqrtHeadDim, training).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// softmax(q·kᵀ/√d + mask)·v for heads [batch, heads, seq, headDim], merged back to [batch, seq, hidden]; shared by
    /// the families whose attention projections have other names (DistilBERT's q_lin, k_lin, v_lin).
    /// </summary>
    internal static Tensor Attend(Tensor q, Tensor k, Tensor v, Tensor additiveMask, TransformerConfig config, Scalar sqrtHeadDim, bool training)
    {
        using var scope = NewDisposeScope();
        long batch = q.size(0), seq = q.size(2);
        if (q.device_type == DeviceType.CUDA ? FusedOnGpu : FusedOnCpu)
        {
            var keep = additiveMask.eq(0); // the additive mask is 0 on real keys
            var fused = F.scaled_dot_product_attention(q, k, v, keep, training ? config.AttentionProbsDropoutProb : 0);
            return fused.transpose(1, 2).reshape(batch, seq, config.HiddenSize).MoveToOuterDisposeScope();
        }
        // Scores and softmax in at least float32 (as autocast does for bfloat16); the products in q's type.
        var scores = Precision.AtLeastFloat32(matmul(q, k.transpose(-1, -2)).div_(sqrtHeadDim)).add_(additiveMask, One); // an explicit alpha: docs/engine.md, "TorchSharp notes"
        var probabilities = F.dropout(F.softmax(scores, -1), config.AttentionProbsDropoutProb, training).to(v.dtype);
        var context = matmul(probabilities, v).transpose(1, 2).reshape(batch, seq, config.HiddenSize);
        return context.MoveToOuterDisposeScope();
    }
}

/// <summary>A dense layer, dropout, and a residual LayerNorm (HF's SelfOutput / Output).</summary>
public sealed class TransformerResidualOutput : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly TransformerConfig config; // dropout is read at forward time, so changing the config takes effect
    public readonly SideBranchLinear dense;
    public readonly LayerNorm LayerNorm;

    public TransformerResidualOutput(long inFeatures, TransformerConfig config) : base(nameof(TransformerResidualOutput))
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

/// <summary>HF's attention: "self" (projections) and "output" (dense + residual LayerNorm).</summary>
public sealed class TransformerAttention : nn.Module<Tensor, Tensor, Tensor>
{
    public readonly TransformerSelfAttention self;
    public readonly TransformerResidualOutput output;

    public TransformerAttention(TransformerConfig config) : base(nameof(TransformerAttention))
    {
        self = new TransformerSelfAttention(config);
        output = new TransformerResidualOutput(config.HiddenSize, config);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor additiveMask)
    {
        using var context = self.call(x, additiveMask);
        return output.call(context, x);
    }
}

/// <summary>The FFN's first half: dense to the intermediate size, exact GELU (HF: intermediate.dense).</summary>
public sealed class TransformerIntermediate : nn.Module<Tensor, Tensor>
{
    public readonly SideBranchLinear dense;

    public TransformerIntermediate(TransformerConfig config) : base(nameof(TransformerIntermediate))
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
public sealed class TransformerLayer : nn.Module<Tensor, Tensor, Tensor>
{
    public readonly TransformerAttention attention;
    public readonly TransformerIntermediate intermediate;
    public readonly TransformerResidualOutput output;

    public TransformerLayer(TransformerConfig config) : base(nameof(TransformerLayer))
    {
        attention = new TransformerAttention(config);
        intermediate = new TransformerIntermediate(config);
        output = new TransformerResidualOutput(config.IntermediateSize, config);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        var h = attention.call(x, additiveMask);
        return output.call(intermediate.call(h), h).MoveToOuterDisposeScope();
    }
}

/// <summary>HF's "encoder": the stack of transformer blocks, named "layer.0", "layer.1", ...</summary>
public sealed class TransformerEncoder : nn.Module<Tensor, Tensor, Tensor>
{
    public readonly ModuleList<TransformerLayer> layer;

    public TransformerEncoder(TransformerConfig config) : base(nameof(TransformerEncoder))
    {
        layer = nn.ModuleList(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new TransformerLayer(config)).ToArray());
        RegisterComponents();
    }

    /// <summary>The last hidden state [batch, seq, hidden] for embeddings and an additive attention mask.</summary>
    public override Tensor forward(Tensor embedded, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        var hidden = embedded;
        foreach (var block in layer) hidden = block.call(hidden, additiveMask);
        return hidden.MoveToOuterDisposeScope();
    }

    /// <summary>The blocks' weight matrices (attention query/key/value/output, FFN in and out), named under <paramref name="prefix"/>.</summary>
    public IEnumerable<(string Name, SideBranchLinear Layer)> Linears(string prefix) =>
        ModuleTree.DepthFirst(this, prefix)
            .Where(m => m.Module is SideBranchLinear)
            .Select(m => (m.Name + ".weight", (SideBranchLinear)m.Module));
}

/// <summary>The reduced-precision rule: 16-bit results go up to float32 where autocast would (softmax, logits).</summary>
internal static class Precision
{
    public static Tensor AtLeastFloat32(Tensor t) => t.dtype is ScalarType.BFloat16 or ScalarType.Float16 ? t.to(ScalarType.Float32) : t;
}
