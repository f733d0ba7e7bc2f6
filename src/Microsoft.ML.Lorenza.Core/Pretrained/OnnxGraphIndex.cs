using Microsoft.ML.Lorenza.Onnx.Proto;

namespace Microsoft.ML.Lorenza.Pretrained;

/// <summary>
/// Lookups over a graph: initializers, each value's producer and consumers, constants. A graph comes from outside, so a
/// node may lack the inputs or outputs its operator has: <see cref="Input"/> and <see cref="Output"/> give null then,
/// and every lookup of null finds nothing (found by fuzzing the converter).
/// </summary>
internal sealed class OnnxGraphIndex
{
    private readonly Dictionary<string, TensorProto> initializers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, NodeProto> producers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<(NodeProto, int)>> consumers = new(StringComparer.Ordinal);

    public OnnxGraphIndex(GraphProto graph)
    {
        foreach (var init in graph.Initializer) initializers[init.Name] = init;
        foreach (var node in graph.Node)
        {
            foreach (var output in node.Output) producers[output] = node;
            for (var slot = 0; slot < node.Input.Count; slot++)
            {
                if (node.Input[slot].Length == 0) continue;
                if (!consumers.TryGetValue(node.Input[slot], out var list)) consumers[node.Input[slot]] = list = [];
                list.Add((node, slot));
            }
        }
    }

    /// <summary>The node's input at <paramref name="slot"/>, null when it has none there.</summary>
    public static string? Input(NodeProto node, int slot) => slot >= 0 && slot < node.Input.Count ? node.Input[slot] : null;

    /// <summary>The node's first output, null when it has none.</summary>
    public static string? Output(NodeProto node) => node.Output.Count > 0 ? node.Output[0] : null;

    public TensorProto? Initializer(string? name) => name is null ? null : initializers.GetValueOrDefault(name);

    public NodeProto? Producer(string? name) => name is null ? null : producers.GetValueOrDefault(name);

    public IReadOnlyList<(NodeProto Node, int Slot)> ConsumersOf(string? name) =>
        name is not null && consumers.TryGetValue(name, out var list) ? list : [];

    /// <summary>An initializer or the value of a Constant node.</summary>
    public TensorProto? Constant(string? name) =>
        Initializer(name) ?? (Producer(name) is { OpType: "Constant" } c ? c.Attribute.FirstOrDefault(a => a.Name == "value")?.T : null);

    public long[]? Int64Constant(string? name) =>
        Constant(name) is { DataType: (int)TensorProto.Types.DataType.Int64 } t ? OnnxBertConverter.Int64Values(t, name!) : null;

    public float? FloatScalar(string? name)
    {
        if (Constant(name) is not { DataType: (int)TensorProto.Types.DataType.Float } t || OnnxBertConverter.Elements(t.Dims.ToArray()) != 1) return null;
        return OnnxBertConverter.FloatValues(t, name!)[0];
    }
}
