using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Microsoft.ML.Lorenza.Onnx.Proto;

namespace Microsoft.ML.Lorenza.Pretrained;

/// <summary>One weight of the converted checkpoint: Hugging Face name, shape and float32 values (row-major).</summary>
internal sealed record NamedWeight(string Name, long[] Shape, float[] Values);

/// <summary>What the conversion produced: the config, the weights under Hugging Face names, and which anonymous initializer got which name.</summary>
internal sealed record ConvertedBert(BertGraphConfig Config, IReadOnlyList<NamedWeight> Weights, IReadOnlyDictionary<string, string> NamedByGraph, string Producer, long Opset);

/// <summary>
/// Turns a Hugging Face BertModel exported to ONNX (torch.onnx: named embeddings, biases and LayerNorm
/// parameters, anonymous MatMul weights stored [in, out], LayerNorm decomposed, GELU as Erf) into a
/// Hugging Face checkpoint. Every anonymous weight is named by walking the graph — the MatMul consuming
/// it, the Add consuming the MatMul's output, the named bias `module.bias` that Add adds, so the weight is
/// `module.weight` — never by its position in the file, and is transposed to Linear's [out, in]. The
/// architecture (sizes, heads, LayerNorm epsilon, activation) is read from the graph too. Anything that does
/// not fit — an unnamed weight, a repeated name, an unexpected shape — is refused with one line.
/// </summary>
internal static class OnnxBertConverter
{
    private static readonly Regex LayerIndex = new(@"^encoder\.layer\.(\d+)\.", RegexOptions.CultureInvariant);

    public static ConvertedBert Convert(ReadOnlySpan<byte> onnx, string source)
    {
        ModelProto model;
        try { model = ModelProto.Parser.ParseFrom(onnx); }
        catch (InvalidProtocolBufferException e) { throw Refuse(source, $"model.onnx is not an ONNX model ({e.Message})"); }
        return Convert(model, source);
    }

    /// <summary>Converts a parsed graph (tests rewrite one in memory).</summary>
    public static ConvertedBert Convert(ModelProto model, string source)
    {
        if (model.Graph is null) throw Refuse(source, "model.onnx has no graph");
        var graph = new OnnxGraphIndex(model.Graph);
        var opset = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();

        // 1. Name every float weight: Hugging Face names as they are, anonymous MatMul weights by the graph walk.
        var weights = new Dictionary<string, NamedWeight>(StringComparer.Ordinal);
        var namedByGraph = new SortedDictionary<string, string>(StringComparer.Ordinal);
        // MatMul and Gemm weights first, so that a bias without a name is reported as the weight it fails to name.
        var weightsFirst = model.Graph.Initializer.OrderBy(i => graph.ConsumersOf(i.Name).Any(u => u.Node.OpType is "MatMul" or "Gemm") ? 0 : 1);
        foreach (var init in weightsFirst)
        {
            if (init.DataType != (int)TensorProto.Types.DataType.Float) continue; // int64 shape constants, position_ids (checked below)
            var shape = init.Dims.ToArray();
            var anonymous = !init.Name.Contains('.');
            string name;
            var transpose = false;
            var uses = graph.ConsumersOf(init.Name);
            if (shape.Length == 2 && uses.Any(u => u.Node.OpType == "MatMul"))
            {
                if (uses.Count != 1 || uses[0].Slot != 1)
                    throw Refuse(source, $"weight '{init.Name}' is used by {Describe(uses)}; expected exactly one MatMul (as its second input)");
                name = NameMatMulWeight(graph, init.Name, uses[0].Node, shape, source);
                transpose = true;
                if (!anonymous && name != init.Name)
                    throw Refuse(source, $"weight '{init.Name}' feeds the bias of {name[..^".weight".Length]}, which disagrees with its own name");
                if (anonymous) namedByGraph[init.Name] = name;
            }
            else if (shape.Length == 2 && uses.Count == 1 && uses[0].Node.OpType == "Gemm" && uses[0].Slot == 1)
            {
                var gemm = uses[0].Node;
                name = anonymous ? NameFromBias(graph, gemm.Input.Count > 2 ? gemm.Input[2] : null, init.Name, source) : init.Name;
                transpose = Attribute(gemm, "transB")?.I != 1; // Gemm with transB = 1 stores [out, in], as Linear does
                if (anonymous) namedByGraph[init.Name] = name;
            }
            else if (anonymous)
            {
                if (Elements(shape) <= 1) continue; // a scalar constant stored as an initializer
                throw Refuse(source, $"weight '{init.Name}' {Shape(shape)} stays unnamed: it is used by {Describe(uses)}, not by a MatMul whose output an Add with a named bias consumes");
            }
            else name = init.Name;

            var values = FloatValues(init, source);
            if (transpose) (values, shape) = (Transpose(values, shape), [shape[1], shape[0]]);
            if (!weights.TryAdd(name, new NamedWeight(name, shape, values)))
                throw Refuse(source, $"the name {name} repeats (initializer '{init.Name}' and another both map to it)");
        }

        // 2. The architecture, read from the graph.
        var config = ReadConfig(graph, weights, source);

        // 3. Exactly Hugging Face BertModel's tensors, with the shapes the config implies.
        var expected = ExpectedShapes(config);
        var unexpected = weights.Keys.Where(k => !expected.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        if (unexpected.Count > 0) throw Refuse(source, $"unexpected weights {string.Join(", ", unexpected)}");
        var missing = expected.Keys.Where(k => !weights.ContainsKey(k)).ToList();
        if (missing.Count > 0) throw Refuse(source, $"missing weights {string.Join(", ", missing)}");
        foreach (var (name, shape) in expected)
            if (!weights[name].Shape.SequenceEqual(shape))
                throw Refuse(source, $"{name} has shape {Shape(weights[name].Shape)}, expected {Shape(shape)} for the architecture read from the graph");

        // position_ids is a buffer (0, 1, …, max-1), not a weight: Hugging Face recreates it; refuse anything else.
        if (model.Graph.Initializer.FirstOrDefault(i => i.Name == "embeddings.position_ids") is { } ids)
        {
            var positions = Int64Values(ids, source);
            if (positions.Length != config.MaxPositionEmbeddings || positions.Where((p, i) => p != i).Any())
                throw Refuse(source, "embeddings.position_ids is not 0, 1, …, max_position_embeddings - 1");
        }
        var ordered = expected.Keys.Select(k => weights[k]).ToList();
        return new ConvertedBert(config, ordered, namedByGraph, $"{model.ProducerName} {model.ProducerVersion}".Trim(), opset);
    }

    /// <summary>
    /// The vocabulary as Hugging Face's vocab.txt: one token per line, "\n" line ends (the package stores "\r\n"),
    /// no byte-order mark. Refuses a token count other than the embedding's row count.
    /// </summary>
    public static byte[] NormalizeVocab(ReadOnlySpan<byte> vocab, int vocabSize, string source)
    {
        var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(vocab).TrimStart('\uFEFF');
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        if (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        if (lines.Count != vocabSize)
            throw Refuse(source, $"vocab.txt has {lines.Count} tokens but the word embeddings have {vocabSize} rows");
        var duplicate = lines.GroupBy(l => l, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw Refuse(source, $"vocab.txt lists the token '{duplicate.Key}' twice");
        return Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n");
    }

    // The MatMul's output goes to exactly one Add whose other input is a named bias `<module>.bias`: the weight is `<module>.weight`.
    private static string NameMatMulWeight(OnnxGraphIndex graph, string weight, NodeProto matmul, long[] shape, string source)
    {
        var output = OnnxGraphIndex.Output(matmul);
        var adds = graph.ConsumersOf(output);
        if (adds.Count != 1 || adds[0].Node.OpType != "Add")
            throw Refuse(source, $"weight '{weight}' {Shape(shape)} stays unnamed: its MatMul's output feeds {Describe(adds)}, not one Add with a named bias");
        var add = adds[0].Node;
        var bias = add.Input.FirstOrDefault(i => i != output);
        var name = NameFromBias(graph, bias, weight, source);
        if (graph.Initializer(bias!) is { } b && (b.Dims.Count != 1 || b.Dims[0] != shape[1]))
            throw Refuse(source, $"weight '{weight}' {Shape(shape)} does not match its bias {bias} {Shape(b.Dims.ToArray())}");
        return name;
    }

    private static string NameFromBias(OnnxGraphIndex graph, string? bias, string weight, string source)
    {
        if (bias is null || graph.Initializer(bias) is null || !bias.EndsWith(".bias", StringComparison.Ordinal) || bias.Length == ".bias".Length)
            throw Refuse(source, $"weight '{weight}' stays unnamed: the Add after its MatMul adds '{bias}', not a named bias '<module>.bias'");
        return bias[..^".bias".Length] + ".weight";
    }

    private static BertGraphConfig ReadConfig(OnnxGraphIndex graph, Dictionary<string, NamedWeight> weights, string source)
    {
        NamedWeight Need(string name) => weights.TryGetValue(name, out var w) ? w : throw Refuse(source, $"the graph has no {name}");
        var words = Need("embeddings.word_embeddings.weight");
        if (words.Shape.Length != 2) throw Refuse(source, $"embeddings.word_embeddings.weight has shape {Shape(words.Shape)}, expected [vocab, hidden]");
        var hidden = (int)words.Shape[1];
        var positions = (int)Need("embeddings.position_embeddings.weight").Shape[0];
        var types = (int)Need("embeddings.token_type_embeddings.weight").Shape[0];
        var layerIndexes = weights.Keys.Select(k => LayerIndex.Match(k)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).Distinct().ToList();
        if (layerIndexes.Count == 0) throw Refuse(source, "the graph has no encoder.layer.N weights");
        var layers = layerIndexes.Max() + 1;
        if (layerIndexes.Count != layers) throw Refuse(source, $"encoder layers {string.Join(", ", Enumerable.Range(0, layers).Except(layerIndexes))} are missing");
        var intermediate = (int)Need("encoder.layer.0.intermediate.dense.weight").Shape[0];

        // Heads: the Reshape of each query/key/value projection to [batch, sequence, heads, head_size].
        var heads = new HashSet<(long Heads, long Size)>();
        for (var l = 0; l < layers; l++)
            foreach (var m in new[] { "query", "key", "value" })
                heads.Add(HeadsOf(graph, $"encoder.layer.{l}.attention.self.{m}.bias", source));
        if (heads.Count != 1) throw Refuse(source, $"the attention Reshapes disagree on the number of heads ({string.Join(", ", heads)})");
        var (headCount, headSize) = heads.Single();
        if (headCount * headSize != hidden) throw Refuse(source, $"{headCount} heads of {headSize} do not make the hidden size {hidden}");

        // LayerNorm epsilon: the constant added to the variance in every (decomposed) LayerNorm.
        var epsilons = weights.Keys.Where(k => k.EndsWith("LayerNorm.weight", StringComparison.Ordinal))
            .Select(k => EpsilonOf(graph, k, source)).Distinct().ToList();
        if (epsilons.Count != 1) throw Refuse(source, $"the LayerNorms use different epsilons ({string.Join(", ", epsilons)})");

        // Activation: Hugging Face's "gelu" is x·½(1 + erf(x/√2)).
        for (var l = 0; l < layers; l++)
            if (!IsErfGelu(graph, $"encoder.layer.{l}.intermediate.dense.bias"))
                throw Refuse(source, $"the activation of encoder.layer.{l}.intermediate is not GELU (x·½(1 + erf(x/√2)))");

        // The float32 constant back to the decimal it was written as (9.99999996e-13 → 1e-12).
        var eps = double.Parse(epsilons[0].ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        return new BertGraphConfig((int)words.Shape[0], hidden, layers, (int)headCount, intermediate, positions, types, eps, "gelu");
    }

    private static (long Heads, long Size) HeadsOf(OnnxGraphIndex graph, string bias, string source)
    {
        var add = graph.ConsumersOf(bias).FirstOrDefault(u => u.Node.OpType == "Add").Node
            ?? throw Refuse(source, $"no Add uses {bias}, so the number of attention heads cannot be read from the graph");
        var reshape = graph.ConsumersOf(OnnxGraphIndex.Output(add)).FirstOrDefault(u => u.Node.OpType == "Reshape" && u.Slot == 0).Node
            ?? throw Refuse(source, $"the projection with {bias} is not reshaped into heads, so the number of attention heads cannot be read from the graph");
        long[]? target = graph.Int64Constant(OnnxGraphIndex.Input(reshape, 1));
        if (target is null && graph.Producer(OnnxGraphIndex.Input(reshape, 1)) is { OpType: "Concat" } concat && concat.Input.Count >= 2)
        {
            var last = graph.Int64Constant(concat.Input[^1]);
            var beforeLast = graph.Int64Constant(concat.Input[^2]);
            if (last is { Length: 1 } && beforeLast is { Length: 1 }) target = [beforeLast[0], last[0]];
        }
        if (target is null || target.Length < 2 || target[^1] <= 0 || target[^2] <= 0)
            throw Refuse(source, $"the Reshape after {bias} has no constant [heads, head_size], so the number of attention heads cannot be read from the graph");
        return (target[^2], target[^1]);
    }

    private static float EpsilonOf(OnnxGraphIndex graph, string weight, string source)
    {
        var uses = graph.ConsumersOf(weight);
        if (uses.Count == 1 && uses[0].Node.OpType == "LayerNormalization")
            return Attribute(uses[0].Node, "epsilon")?.F ?? 1e-5f;
        // Decomposed: Mul(Div(x - mean, Sqrt(Add(ReduceMean((x - mean)^2), eps))), weight).
        if (uses.Count == 1 && uses[0].Node.OpType == "Mul"
            && graph.Producer(OnnxGraphIndex.Input(uses[0].Node, 1 - uses[0].Slot)) is { OpType: "Div" } div
            && graph.Producer(OnnxGraphIndex.Input(div, 1)) is { OpType: "Sqrt" } sqrt
            && graph.Producer(OnnxGraphIndex.Input(sqrt, 0)) is { OpType: "Add" } add)
            foreach (var input in add.Input)
                if (graph.FloatScalar(input) is { } eps && graph.Producer(add.Input.FirstOrDefault(i => i != input)) is { OpType: "ReduceMean" })
                    return eps;
        throw Refuse(source, $"cannot read the LayerNorm epsilon of {weight[..^".weight".Length]} from the graph");
    }

    private static bool IsErfGelu(OnnxGraphIndex graph, string bias)
    {
        var add = graph.ConsumersOf(bias).FirstOrDefault(u => u.Node.OpType == "Add").Node;
        if (add is null) return false;
        foreach (var (node, slot) in graph.ConsumersOf(OnnxGraphIndex.Output(add)))
        {
            if (node.OpType == "Gelu") return Attribute(node, "approximate")?.S.ToStringUtf8() is null or "" or "none";
            var scale = node.OpType is "Div" or "Mul" && slot == 0 ? graph.FloatScalar(OnnxGraphIndex.Input(node, 1)) : null;
            var isHalfSqrt2 = scale is { } s && (node.OpType == "Div" ? Math.Abs(s - Math.Sqrt(2)) : Math.Abs(s - 1 / Math.Sqrt(2))) < 1e-6;
            if (isHalfSqrt2 && graph.ConsumersOf(OnnxGraphIndex.Output(node)).Any(u => u.Node.OpType == "Erf")) return true;
        }
        return false;
    }

    private static SortedDictionary<string, long[]> ExpectedShapes(BertGraphConfig c)
    {
        long h = c.HiddenSize, f = c.IntermediateSize;
        var shapes = new SortedDictionary<string, long[]>(StringComparer.Ordinal)
        {
            ["embeddings.word_embeddings.weight"] = [c.VocabSize, h],
            ["embeddings.position_embeddings.weight"] = [c.MaxPositionEmbeddings, h],
            ["embeddings.token_type_embeddings.weight"] = [c.TypeVocabSize, h],
            ["embeddings.LayerNorm.weight"] = [h],
            ["embeddings.LayerNorm.bias"] = [h],
            ["pooler.dense.weight"] = [h, h],
            ["pooler.dense.bias"] = [h],
        };
        for (var l = 0; l < c.NumHiddenLayers; l++)
        {
            var p = $"encoder.layer.{l}.";
            foreach (var m in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense" })
            {
                shapes[$"{p}{m}.weight"] = [h, h];
                shapes[$"{p}{m}.bias"] = [h];
            }
            shapes[$"{p}intermediate.dense.weight"] = [f, h];
            shapes[$"{p}intermediate.dense.bias"] = [f];
            shapes[$"{p}output.dense.weight"] = [h, f];
            shapes[$"{p}output.dense.bias"] = [h];
            foreach (var n in new[] { "attention.output.LayerNorm", "output.LayerNorm" })
            {
                shapes[$"{p}{n}.weight"] = [h];
                shapes[$"{p}{n}.bias"] = [h];
            }
        }
        return shapes;
    }

    internal static float[] FloatValues(TensorProto t, string source)
    {
        var count = Elements(t.Dims.ToArray());
        float[] values = t.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray() : t.FloatData.ToArray();
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Reading ONNX weights needs a little-endian machine.");
        if (values.Length != count) throw Refuse(source, $"initializer '{t.Name}' holds {values.Length} values for shape {Shape(t.Dims.ToArray())}");
        return values;
    }

    internal static long[] Int64Values(TensorProto t, string source)
    {
        if (t.DataType != (int)TensorProto.Types.DataType.Int64) throw Refuse(source, $"'{t.Name}' is not int64");
        return t.RawData.Length > 0 ? MemoryMarshal.Cast<byte, long>(t.RawData.Span).ToArray() : t.Int64Data.ToArray();
    }

    private static float[] Transpose(float[] values, long[] shape)
    {
        int rows = (int)shape[0], cols = (int)shape[1];
        var result = new float[values.Length];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < cols; c++)
                result[c * rows + r] = values[r * cols + c];
        return result;
    }

    private static AttributeProto? Attribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

    internal static long Elements(long[] shape) => shape.Aggregate(1L, (a, d) => a * d);

    internal static string Shape(IEnumerable<long> shape) => $"[{string.Join(", ", shape)}]";

    private static string Describe(IReadOnlyList<(NodeProto Node, int Slot)> uses) =>
        uses.Count == 0 ? "no node" : string.Join(", ", uses.Select(u => $"{u.Node.OpType} '{u.Node.Name}'"));

    // Names in the reason come from the graph: written on one line whatever they hold.
    private static InvalidDataException Refuse(string source, string reason) => new($"cannot convert {source}: {OneLine.Escape(reason)}.");
}
