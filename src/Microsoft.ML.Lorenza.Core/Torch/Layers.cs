namespace Microsoft.ML.Lorenza.Torch;

/// <summary>A lookup table of embeddings (torch.nn.Embedding); parameter "weight" [count, dim].</summary>
public sealed class Embedding : Module
{
    public Embedding(long count, long dim, long paddingIndex = -1)
    {
        Count = count;
        PaddingIndex = paddingIndex;
        weight = register_parameter("weight", torch.zeros([count, dim]));
    }

    public long Count { get; }
    public long PaddingIndex { get; }
    public Tensor weight { get; }

    public Tensor forward(Tensor indices) => torch.nn.functional.embedding(weight, indices, PaddingIndex);
}

/// <summary>Layer normalization over the last dimension (torch.nn.LayerNorm); "weight" and "bias".</summary>
public sealed class LayerNorm : Module
{
    public LayerNorm(long dim, double eps)
    {
        Eps = eps;
        weight = register_parameter("weight", torch.ones([dim]));
        bias = register_parameter("bias", torch.zeros([dim]));
    }

    public double Eps { get; }
    public Tensor weight { get; }
    public Tensor bias { get; }

    public Tensor forward(Tensor x) => torch.nn.functional.layer_norm(x, [weight.shape[0]], weight, bias, Eps);
}

/// <summary>Numbered sub-modules ("0", "1", ...), as torch.nn.ModuleList names them.</summary>
public sealed class ModuleList<T> : Module where T : Module
{
    private readonly List<T> items = new();

    public ModuleList(IEnumerable<T> modules)
    {
        foreach (var m in modules) items.Add(register_module(items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), m));
    }

    public int Count => items.Count;
    public T this[int index] => items[index];
    public IEnumerable<T> Items => items;
}
