using Google.Protobuf;
using Microsoft.ML.Lorenza.Onnx.Proto;

namespace Microsoft.ML.Lorenza.Onnx;

/// <summary>Small helpers to add nodes, constants and initializers to an ONNX graph with readable names.</summary>
internal sealed class OnnxGraphBuilder(GraphProto graph)
{
    private int counter;

    public GraphProto Graph { get; } = graph;

    /// <summary>Adds a node and returns the name of its (first) output, derived from <paramref name="name"/>.</summary>
    public string Node(string opType, string name, IEnumerable<string> inputs, params AttributeProto[] attributes) =>
        NodeOutputs(opType, name, inputs, 1, attributes)[0];

    public string[] NodeOutputs(string opType, string name, IEnumerable<string> inputs, int outputs, params AttributeProto[] attributes)
    {
        var id = counter++;
        var node = new NodeProto { OpType = opType, Name = $"{name}/{opType}_{id}" };
        node.Input.AddRange(inputs);
        var names = Enumerable.Range(0, outputs).Select(k => outputs == 1 ? $"{name}/{opType}_{id}" : $"{name}/{opType}_{id}:{k}").ToArray();
        node.Output.AddRange(names);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return names;
    }

    public string Float32Initializer(string name, float[] data, long[] dims, bool asFloat16)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)(asFloat16 ? TensorProto.Types.DataType.Float16 : TensorProto.Types.DataType.Float) };
        tensor.Dims.AddRange(dims);
        if (asFloat16)
        {
            var bytes = new byte[data.Length * 2];
            for (var k = 0; k < data.Length; k++) BitConverter.TryWriteBytes(bytes.AsSpan(2 * k), (Half)data[k]);
            tensor.RawData = ByteString.CopyFrom(bytes);
            Graph.Initializer.Add(tensor);
            return Node("Cast", name, [name], Int("to", (long)TensorProto.Types.DataType.Float));
        }
        var raw = new byte[data.Length * 4];
        Buffer.BlockCopy(data, 0, raw, 0, raw.Length);
        tensor.RawData = ByteString.CopyFrom(raw);
        Graph.Initializer.Add(tensor);
        return name;
    }

    public string Int64Constant(string name, long[] values, long[]? dims = null)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.AddRange(dims ?? [values.Length]);
        tensor.Int64Data.AddRange(values);
        Graph.Initializer.Add(tensor);
        return name;
    }

    public string FloatConstant(string name, float value)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.FloatData.Add(value);
        Graph.Initializer.Add(tensor);
        return name;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, I = value, Type = AttributeProto.Types.AttributeType.Int };
    public static AttributeProto Float(string name, float value) => new() { Name = name, F = value, Type = AttributeProto.Types.AttributeType.Float };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static ValueInfoProto TensorValue(string name, TensorProto.Types.DataType type, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d is string p ? new TensorShapeProto.Types.Dimension { DimParam = p } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d) });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }
}
