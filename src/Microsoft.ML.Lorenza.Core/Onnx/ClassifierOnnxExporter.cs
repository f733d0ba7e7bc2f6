using System.Text.Json;
using Google.Protobuf;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Onnx.Proto;
using Microsoft.ML.Lorenza.Runtime;
using Microsoft.ML.Lorenza.Text;
using TorchSharp;
using static TorchSharp.torch;
using static Microsoft.ML.Lorenza.Onnx.OnnxGraphBuilder;
using DataType = Microsoft.ML.Lorenza.Onnx.Proto.TensorProto.Types.DataType;

namespace Microsoft.ML.Lorenza.Onnx;

/// <summary>Export settings.</summary>
public sealed class OnnxExportOptions
{
    /// <summary>ONNX opset; 17 or later (LayerNormalization is one node from 17).</summary>
    public int Opset { get; init; } = 17;

    /// <summary>Store weights as float16 (half the file; a Cast to float32 follows each). Computation and outputs stay float32.</summary>
    public bool Float16Weights { get; init; }
}

/// <summary>
/// Writes a classifier of any supported family as an ONNX model: inputs <c>input_ids</c> and <c>attention_mask</c> (int64,
/// dynamic batch and sequence), for BERT and ELECTRA also <c>token_type_ids</c>; outputs <c>logits</c> and
/// <c>probabilities</c>; weights as initializers under their Hugging Face names. The graph computes what the
/// <see cref="SequenceClassifier"/> computes in eval mode: (XLM-)RoBERTa's position ids from the padding offset and its
/// dense-tanh-out_proj head; BERT's absolute positions, token types, pooler and classifier; DistilBERT's blocks (q_lin …
/// output_layer_norm, no token types) and pre_classifier-ReLU-classifier head; ELECTRA's embedding projection and
/// dense-GELU-out_proj head; exact (erf) GELU.
/// </summary>
public static class ClassifierOnnxExporter
{
    public const int MinimumOpset = 17;

    /// <summary>Exports to <paramref name="path"/> atomically (no partial file on failure).</summary>
    public static void Export(SequenceClassifier model, string path, OnnxExportOptions? options = null)
    {
        var bytes = Build(model, options ?? new OnnxExportOptions()).ToByteArray();
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>Writes the ONNX model to <paramref name="stream"/> (left open).</summary>
    public static void Export(SequenceClassifier model, Stream stream, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var bytes = Build(model, options ?? new OnnxExportOptions()).ToByteArray();
        stream.Write(bytes);
    }

    /// <summary>
    /// Exports the model and writes what a consumer needs beside it: labels.json (class names in logit
    /// order), and the tokenizer files when given (vocab.json + merges.txt for RoBERTa, vocab.txt +
    /// tokenizer_config.json for BERT).
    /// </summary>
    public static void ExportFolder(SequenceClassifier model, string onnxPath, ITextTokenizer? tokenizer = null, OnnxExportOptions? options = null)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(onnxPath))!;
        Directory.CreateDirectory(dir);
        Export(model, onnxPath, options);
        AtomicFile.WriteAllText(Path.Combine(dir, "labels.json"), JsonSerializer.Serialize(model.Config.Labels));
        tokenizer?.SaveTo(dir);
    }

    /// <summary>The graph's inputs for <paramref name="model"/>: input_ids, attention_mask, and token_type_ids for BERT.</summary>
    public static IReadOnlyList<string> InputNames(SequenceClassifier model) =>
        UsesTokenTypes(model) ? ["input_ids", "attention_mask", "token_type_ids"] : ["input_ids", "attention_mask"];

    // BERT and ELECTRA take segments; RoBERTa and XLM-RoBERTa (one token type, always 0) and DistilBERT (none) do not.
    private static bool UsesTokenTypes(SequenceClassifier model) => model.Config.HasTokenTypes && model.Embeddings.Positions == PositionRule.Absolute;

    internal static ModelProto Build(SequenceClassifier model, OnnxExportOptions options)
    {
        if (options.Opset < MinimumOpset)
            throw new ArgumentOutOfRangeException(nameof(options), options.Opset, $"Opset {options.Opset} is not supported: use {MinimumOpset} or later (LayerNormalization needs 17).");
        var config = model.Config;
        var weights = model.state_dict();
        var nonFinite = weights.Where(kv => !kv.Value.isfinite().all().item<bool>()).Select(kv => kv.Key).ToList();
        if (nonFinite.Count > 0)
            throw new InvalidOperationException($"The model has NaN or infinite weights in {string.Join(", ", nonFinite)}; it cannot be exported (was training diverging?).");

        var absolute = model.Embeddings.Positions == PositionRule.Absolute; // BERT, DistilBERT, ELECTRA; else RoBERTa's padding offset
        var typed = UsesTokenTypes(model);
        var encoder = model.BaseModelPrefix;
        var graph = new GraphProto { Name = $"{encoder}_for_sequence_classification" };
        var g = new OnnxGraphBuilder(graph);
        foreach (var input in InputNames(model)) graph.Input.Add(TensorValue(input, DataType.Int64, "batch", "sequence"));

        string W(string name)
        {
            var t = weights[name];
            return g.Float32Initializer(name, t.detach().cpu().to(ScalarType.Float32).ToArray<float>(), t.shape, options.Float16Weights);
        }
        string Linear(string prefix, string x)
        {
            var transposed = g.Node("Transpose", prefix + ".weight", [W(prefix + ".weight")], Ints("perm", 1, 0));
            return g.Node("Add", prefix, [g.Node("MatMul", prefix, [x, transposed]), W(prefix + ".bias")]);
        }
        string LayerNorm(string prefix, string x) =>
            g.Node("LayerNormalization", prefix, [x, W(prefix + ".weight"), W(prefix + ".bias")], Int("axis", -1), Float("epsilon", (float)config.LayerNormEps));

        string words, positional;
        string? tokenType;
        if (absolute)
        {
            // Absolute positions 0..T−1: a [T, hidden] slice of the table, broadcast over the batch; token types from the
            // input (BERT, ELECTRA) or none (DistilBERT).
            words = g.Node("Gather", "embeddings.word", [W($"{encoder}.embeddings.word_embeddings.weight"), "input_ids"]);
            var length = g.Node("Gather", "embeddings.position_ids", [g.Node("Shape", "embeddings.position_ids", ["input_ids"]), g.Int64Constant("const.one_index", [1], [])]);
            var range = g.Node("Range", "embeddings.position_ids", [g.Int64Constant("const.zero_scalar", [0], []), length, g.Int64Constant("const.one_scalar", [1], [])]);
            positional = g.Node("Gather", "embeddings.position", [W($"{encoder}.embeddings.position_embeddings.weight"), range]);
            tokenType = typed ? g.Node("Gather", "embeddings.token_type", [W($"{encoder}.embeddings.token_type_embeddings.weight"), "token_type_ids"]) : null;
        }
        else
        {
            // RoBERTa's positions: cumsum of the non-pad mask × mask + pad; token type 0 everywhere.
            var pad = g.Int64Constant("const.pad_token_id", [config.PadTokenId], []);
            var notPad = g.Node("Cast", "embeddings.not_pad", [g.Node("Not", "embeddings.not_pad", [g.Node("Equal", "embeddings.not_pad", ["input_ids", pad])])], Int("to", (long)DataType.Int64));
            var cumsum = g.Node("CumSum", "embeddings.position_ids", [notPad, g.Int64Constant("const.axis1", [1], [])]);
            var positions = g.Node("Add", "embeddings.position_ids", [g.Node("Mul", "embeddings.position_ids", [cumsum, notPad]), pad]);
            words = g.Node("Gather", "embeddings.word", [W($"{encoder}.embeddings.word_embeddings.weight"), "input_ids"]);
            positional = g.Node("Gather", "embeddings.position", [W($"{encoder}.embeddings.position_embeddings.weight"), positions]);
            tokenType = g.Node("Gather", "embeddings.token_type", [W($"{encoder}.embeddings.token_type_embeddings.weight"), g.Int64Constant("const.zero", [0], [])]);
        }
        var sum = g.Node("Add", "embeddings.sum", [words, positional]);
        if (tokenType is not null) sum = g.Node("Add", "embeddings.sum", [sum, tokenType]);
        var x = LayerNorm($"{encoder}.embeddings.LayerNorm", sum);
        if (model is ElectraForSequenceClassification { electra.embeddings_project: not null }) x = Linear($"{encoder}.embeddings_project", x);
        // Additive attention mask: (1 − mask) · float32.min, shaped [batch, 1, 1, sequence].
        var maskFloat = g.Node("Cast", "attention.mask", ["attention_mask"], Int("to", (long)DataType.Float));
        var inverted = g.Node("Sub", "attention.mask", [g.FloatConstant("const.one", 1f), maskFloat]);
        var additive = g.Node("Unsqueeze", "attention.mask", [g.Node("Mul", "attention.mask", [inverted, g.FloatConstant("const.float_min", float.MinValue)]), g.Int64Constant("const.axes12", [1, 2])]);

        var heads = config.NumAttentionHeads;
        var headDim = config.HeadDim;
        var splitHeads = g.Int64Constant("const.split_heads_shape", [0, 0, heads, headDim]);
        var mergeHeads = g.Int64Constant("const.merge_heads_shape", [0, 0, config.HiddenSize]);
        var scale = g.FloatConstant("const.attention_scale", (float)(1.0 / Math.Sqrt(headDim)));
        var sqrtHalf = g.FloatConstant("const.inv_sqrt2", (float)(1.0 / Math.Sqrt(2.0)));
        var half = g.FloatConstant("const.half", 0.5f);
        var one = "const.one";
        // Each block's weights by their Hugging Face names: BERT's (attention.self.query, …) or DistilBERT's (attention.q_lin, …).
        var distil = model is DistilBertForSequenceClassification;
        var names = distil
            ? (Query: "attention.q_lin", Key: "attention.k_lin", Value: "attention.v_lin", Out: "attention.out_lin", AttentionNorm: "sa_layer_norm", In: "ffn.lin1", FfnOut: "ffn.lin2", OutputNorm: "output_layer_norm")
            : (Query: "attention.self.query", Key: "attention.self.key", Value: "attention.self.value", Out: "attention.output.dense", AttentionNorm: "attention.output.LayerNorm", In: "intermediate.dense", FfnOut: "output.dense", OutputNorm: "output.LayerNorm");
        for (var l = 0; l < config.NumHiddenLayers; l++)
        {
            var p = $"{model.EncoderPath}.layer.{l}";
            string Heads(string name, long[] perm) =>
                g.Node("Transpose", $"{p}.{name}", [g.Node("Reshape", $"{p}.{name}", [Linear($"{p}.{name}", x), splitHeads])], Ints("perm", perm));
            var q = Heads(names.Query, [0, 2, 1, 3]);
            var kT = Heads(names.Key, [0, 2, 3, 1]);
            var v = Heads(names.Value, [0, 2, 1, 3]);
            var scores = g.Node("Add", $"{p}.attention.scores", [g.Node("Mul", $"{p}.attention.scores", [g.Node("MatMul", $"{p}.attention.scores", [q, kT]), scale]), additive]);
            var probabilities = g.Node("Softmax", $"{p}.attention.probs", [scores], Int("axis", -1));
            var context = g.Node("Reshape", $"{p}.attention.context", [g.Node("Transpose", $"{p}.attention.context", [g.Node("MatMul", $"{p}.attention.context", [probabilities, v])], Ints("perm", 0, 2, 1, 3)), mergeHeads]);
            var h = LayerNorm($"{p}.{names.AttentionNorm}", g.Node("Add", $"{p}.attention.residual", [Linear($"{p}.{names.Out}", context), x]));
            var gelu = Gelu($"{p}.{names.In}", Linear($"{p}.{names.In}", h));
            x = LayerNorm($"{p}.{names.OutputNorm}", g.Node("Add", $"{p}.output.residual", [Linear($"{p}.{names.FfnOut}", gelu), h]));
        }
        // Exact GELU: 0.5·u·(1 + erf(u/√2)).
        string Gelu(string prefix, string u)
        {
            var erf = g.Node("Erf", $"{prefix}.gelu", [g.Node("Mul", $"{prefix}.gelu", [u, sqrtHalf])]);
            return g.Node("Mul", $"{prefix}.gelu", [g.Node("Mul", $"{prefix}.gelu", [u, half]), g.Node("Add", $"{prefix}.gelu", [erf, one])]);
        }

        var firstToken = g.Node("Gather", "classifier.first_token", [x, g.Int64Constant("const.zero_index", [0], [])], Int("axis", 1));
        var logits = model switch
        {
            // BERT: the pooler's tanh(dense), then the linear classifier.
            BertForSequenceClassification => Linear("classifier", g.Node("Tanh", "pooler.dense", [Linear($"{encoder}.pooler.dense", firstToken)])),
            // DistilBERT: relu(pre_classifier), then the linear classifier.
            DistilBertForSequenceClassification => Linear("classifier", g.Node("Relu", "pre_classifier", [Linear("pre_classifier", firstToken)])),
            // ELECTRA: gelu(dense), then out_proj.
            ElectraForSequenceClassification => Linear("classifier.out_proj", Gelu("classifier.dense", Linear("classifier.dense", firstToken))),
            // RoBERTa, XLM-RoBERTa: tanh(dense), then out_proj.
            _ => Linear("classifier.out_proj", g.Node("Tanh", "classifier.dense", [Linear("classifier.dense", firstToken)])),
        };
        graph.Node.Add(new NodeProto { OpType = "Identity", Name = "logits/Identity", Input = { logits }, Output = { "logits" } });
        graph.Node.Add(new NodeProto { OpType = "Softmax", Name = "probabilities/Softmax", Input = { logits }, Output = { "probabilities" }, Attribute = { Int("axis", -1) } });
        graph.Output.Add(TensorValue("logits", DataType.Float, "batch", config.NumLabels));
        graph.Output.Add(TensorValue("probabilities", DataType.Float, "batch", config.NumLabels));

        var modelProto = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "Microsoft.ML.Lorenza",
            ProducerVersion = typeof(ClassifierOnnxExporter).Assembly.GetName().Version?.ToString() ?? "",
            Graph = graph,
            DocString = $"{ModelFamilies.Find(config.ModelType)?.Name ?? config.ModelType} sequence classifier exported by Microsoft.ML.Lorenza. Inputs: {string.Join(", ", InputNames(model).SkipLast(1))} and {InputNames(model)[^1]} (int64, [batch, sequence]); outputs: logits and probabilities ([batch, labels]).",
        };
        modelProto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = options.Opset });
        modelProto.MetadataProps.Add(new StringStringEntryProto { Key = "labels", Value = JsonSerializer.Serialize(config.Labels) });
        return modelProto;
    }
}
