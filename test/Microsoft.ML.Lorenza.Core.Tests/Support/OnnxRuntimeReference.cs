using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Support;

/// <summary>
/// Runs an exported model in the real ONNX Runtime (NuGet Microsoft.ML.OnnxRuntime: the native
/// libonnxruntime, default session options as a user gets them), independent of the engine's libtorch.
/// Checks the graph's interface on the way: int64 inputs input_ids and attention_mask (and token_type_ids when
/// given: BERT) of shape [batch, sequence], float outputs logits and probabilities of shape [batch, labels].
/// </summary>
public static class OnnxRuntimeReference
{
    /// <summary>What the session returned, row-major [batch, labels], and the model's custom metadata.</summary>
    public sealed record Result(float[][] Logits, float[][] Probabilities, IReadOnlyDictionary<string, string> Metadata);

    public static Result Run(string modelPath, long[][] inputIds, long[][] attentionMask, long[][]? tokenTypeIds = null)
    {
        Assert.AreEqual(inputIds.Length, attentionMask.Length, "one mask row per input row");
        var batch = inputIds.Length;
        var length = inputIds[0].Length;
        Assert.IsTrue(inputIds.Concat(attentionMask).Concat(tokenTypeIds ?? []).All(r => r.Length == length), "rectangular input");
        string[] inputNames = tokenTypeIds is null ? ["input_ids", "attention_mask"] : ["input_ids", "attention_mask", "token_type_ids"];

        using var session = new InferenceSession(modelPath);
        foreach (var name in inputNames)
        {
            Assert.IsTrue(session.InputMetadata.TryGetValue(name, out var input), $"the model has an input {name}");
            Assert.AreEqual(TensorElementType.Int64, input.ElementDataType, $"{name} element type");
            CollectionAssert.AreEqual(new[] { "batch", "sequence" }, input.SymbolicDimensions, $"{name} has symbolic [batch, sequence] dims");
        }
        Assert.AreEqual(inputNames.Length, session.InputMetadata.Count, $"inputs: {string.Join(", ", inputNames)}");
        var labels = -1;
        foreach (var name in new[] { "logits", "probabilities" })
        {
            Assert.IsTrue(session.OutputMetadata.TryGetValue(name, out var output), $"the model has an output {name}");
            Assert.AreEqual(TensorElementType.Float, output.ElementDataType, $"{name} element type");
            Assert.AreEqual(2, output.Dimensions.Length, $"{name} is [batch, labels]");
            Assert.AreEqual("batch", output.SymbolicDimensions[0], $"{name}'s first dim");
            labels = output.Dimensions[1];
        }

        long[] shape = [batch, length];
        using var ids = OrtValue.CreateTensorValueFromMemory(inputIds.SelectMany(r => r).ToArray(), shape);
        using var mask = OrtValue.CreateTensorValueFromMemory(attentionMask.SelectMany(r => r).ToArray(), shape);
        using var types = tokenTypeIds is null ? null : OrtValue.CreateTensorValueFromMemory(tokenTypeIds.SelectMany(r => r).ToArray(), shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, inputNames, types is null ? [ids, mask] : [ids, mask, types], ["logits", "probabilities"]);
        float[][] Matrix(OrtValue value)
        {
            CollectionAssert.AreEqual(new long[] { batch, labels }, value.GetTensorTypeAndShape().Shape, "output shape");
            var flat = value.GetTensorDataAsSpan<float>().ToArray();
            return Enumerable.Range(0, batch).Select(i => flat[(i * labels)..((i + 1) * labels)]).ToArray();
        }
        return new Result(Matrix(outputs[0]), Matrix(outputs[1]), session.ModelMetadata.CustomMetadataMap);
    }
}
