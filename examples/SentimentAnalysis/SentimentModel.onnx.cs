using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Lorenza;
using Microsoft.ML.Lorenza.Configuration;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Text;
using Microsoft.ML.Transforms.Onnx;

namespace SentimentAnalysis;

/// <summary>
/// Deployment without libtorch: the exported <c>SentimentModel.onnx</c> scored by ML.NET's own
/// <c>ApplyOnnxModel</c> (ONNX Runtime). The graph takes token ids, so the sentence is tokenized outside it by the
/// tokenizer exported beside the model (BERT's WordPiece from <c>vocab.txt</c>, or RoBERTa's byte-level BPE from
/// <c>vocab.json</c> and <c>merges.txt</c>); <c>labels.json</c> names the class of each probability. Neither step calls libtorch.
/// </summary>
public partial class SentimentModel
{
    /// <summary>The ONNX model's inputs for one sentence: its tokens with the special ones ([CLS] … [SEP] or &lt;s&gt; … &lt;/s&gt;), then padding to <see cref="MaxSequenceLength"/>.</summary>
    public class OnnxInput
    {
        [ColumnName("input_ids"), VectorType(MaxSequenceLength)]
        public long[] InputIds { get; set; }

        /// <summary>1 for a token, 0 for padding: the model ignores the padded positions.</summary>
        [ColumnName("attention_mask"), VectorType(MaxSequenceLength)]
        public long[] AttentionMask { get; set; }

        /// <summary>The segment of each token (all 0 for one sentence); BERT's graph takes it, RoBERTa's has no such input.</summary>
        [ColumnName("token_type_ids"), VectorType(MaxSequenceLength)]
        public long[] TokenTypeIds { get; set; }
    }

    /// <summary>What the ONNX model computes: one probability per label, in the order of labels.json.</summary>
    public class OnnxOutput
    {
        [ColumnName("probabilities")]
        public float[] Probabilities { get; set; }
    }

    /// <summary>Tokenize (CustomMapping) → ApplyOnnxModel, over <see cref="ModelInput"/> rows.</summary>
    public static ITransformer LoadOnnxModel(MLContext mlContext, string onnxPath)
    {
        var tokenizer = ModelFolder.LoadTokenizer(Path.GetDirectoryName(Path.GetFullPath(onnxPath)));
        // BERT's graph has a token_type_ids input; RoBERTa's has none.
        string[] inputs = tokenizer.Kind == "wordpiece" ? ["input_ids", "attention_mask", "token_type_ids"] : ["input_ids", "attention_mask"];
        var pipeline = mlContext.Transforms.CustomMapping((ModelInput input, OnnxInput tokens) => Tokenize(tokenizer, input.Sentence, tokens), contractName: null)
            .Append(mlContext.Transforms.ApplyOnnxModel(new OnnxOptions
            {
                ModelFile = onnxPath,
                InputColumns = inputs,
                OutputColumns = ["probabilities"],
                // The graph's inputs are [batch, sequence] with both dimensions symbolic; ML.NET feeds one row at a
                // time and needs fixed sizes, so each row is one sequence padded to MaxSequenceLength.
                ShapeDictionary = inputs.ToDictionary(name => name, _ => new[] { 1, MaxSequenceLength }),
            }));
        return pipeline.Fit(mlContext.Data.LoadFromEnumerable(Array.Empty<ModelInput>()));
    }

    /// <summary>Token ids as the trainer makes them (truncated to <see cref="MaxSequenceLength"/>), right-padded.</summary>
    private static void Tokenize(ITextTokenizer tokenizer, string sentence, OnnxInput tokens)
    {
        var encoded = tokenizer.EncodeSequence(sentence ?? "", null, MaxSequenceLength);
        tokens.InputIds = new long[MaxSequenceLength];
        tokens.AttentionMask = new long[MaxSequenceLength];
        tokens.TokenTypeIds = new long[MaxSequenceLength];
        for (var i = 0; i < MaxSequenceLength; i++)
        {
            var real = i < encoded.Length;
            tokens.InputIds[i] = real ? encoded.Ids[i] : tokenizer.PadId;
            tokens.AttentionMask[i] = real ? 1 : 0;
            tokens.TokenTypeIds[i] = real ? encoded.TypeIds[i] : 0;
        }
    }

    /// <summary>
    /// Scores <paramref name="rows"/> with the exported ONNX model and with the trained pipeline, prints both
    /// probabilities per row and the largest absolute difference (the same float32 network on two runtimes).
    /// </summary>
    public static void CompareOnnxWithModel(MLContext mlContext, ITransformer model, IDataView rows, string onnxPath)
    {
        var onnxLabels = JsonSerializer.Deserialize<string[]>(File.ReadAllText(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(onnxPath)), "labels.json")));
        // The export is float32; the transformer may compute in bf16 (Precision = Auto on a CPU with bf16 instructions,
        // ~1e-2 apart). Compare like with like: float32 on both sides for this check, then back.
        var classifier = ((IEnumerable<ITransformer>)model).OfType<LorenzaTransformer>().Single().Model;
        var precision = classifier.Compute;
        classifier.UsePrecision(ComputePrecision.None);
        Console.WriteLine($"the transformer computes in {precision}; compared with the ONNX export in float32");
        var scored = model.Transform(rows);
        var slotNames = new VBuffer<ReadOnlyMemory<char>>();
        scored.Schema["Score"].GetSlotNames(ref slotNames);
        var labels = slotNames.DenseValues().Select(n => n.ToString()).ToArray();
        // The ONNX probability of each Score slot, matched by label name.
        var onnxIndex = labels.Select(label => Array.IndexOf(onnxLabels, label)).ToArray();
        if (onnxIndex.Contains(-1))
            throw new InvalidDataException($"labels.json ({string.Join(", ", onnxLabels)}) lacks a label of the model ({string.Join(", ", labels)}).");

        var lorenza = mlContext.Data.CreateEnumerable<ModelOutput>(scored, reuseRowObject: false).ToList();
        var onnx = mlContext.Data.CreateEnumerable<OnnxOutput>(LoadOnnxModel(mlContext, onnxPath).Transform(rows), reuseRowObject: false).ToList();

        Console.WriteLine($"ONNX model scored by ApplyOnnxModel, beside the LORENZA transformer's Score (labels {string.Join(", ", labels)}):");
        var worst = 0.0;
        for (var row = 0; row < lorenza.Count; row++)
        {
            var fromOnnx = onnxIndex.Select(i => onnx[row].Probabilities[i]).ToArray();
            worst = Math.Max(worst, lorenza[row].Score.Zip(fromOnnx, (a, b) => Math.Abs((double)a - b)).Max());
            Console.WriteLine($"  {lorenza[row].Sentence}: LORENZA [{Format(lorenza[row].Score)}], ONNX [{Format(fromOnnx)}]");
        }
        Console.WriteLine(FormattableString.Invariant($"max abs difference between ONNX and LORENZA probabilities over {lorenza.Count} test rows: {worst:E2}"));
        classifier.UsePrecision(precision);
    }

    private static string Format(float[] probabilities) => string.Join(", ", probabilities.Select(p => p.ToString("F6", CultureInfo.InvariantCulture)));
}
