using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;

// Usage: <train.tsv> <test.tsv> <seed>. Both files: header "text<TAB>pair<TAB>label" (pair may be empty).
// Prints one JSON line: accuracy, macro_f1, f1 (of the second label in ordinal order, e.g. "1"), seconds.
if (args.Length != 3)
{
    Console.Error.WriteLine("usage: Microsoft.ML.Lorenza.Benchmarks.Classical <train.tsv> <test.tsv> <seed>");
    return 2;
}
var clock = System.Diagnostics.Stopwatch.StartNew();
var train = Rows.Read(args[0]);
var test = Rows.Read(args[1]);
var seed = int.Parse(args[2], CultureInfo.InvariantCulture);
var hasPairs = train.Any(r => r.Pair.Length > 0);

var ml = new MLContext(seed);
// Pairs: each text featurized on its own, the two vectors concatenated.
IEstimator<ITransformer> featurize = hasPairs
    ? ml.Transforms.Text.FeaturizeText("TextFeatures", nameof(Row.Text))
        .Append(ml.Transforms.Text.FeaturizeText("PairFeatures", nameof(Row.Pair)))
        .Append(ml.Transforms.Concatenate("Features", "TextFeatures", "PairFeatures"))
    : ml.Transforms.Text.FeaturizeText("Features", nameof(Row.Text));
var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", nameof(Row.Label))
    .Append(featurize)
    .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy())
    .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedText", "PredictedLabel"));
var model = pipeline.Fit(ml.Data.LoadFromEnumerable(train));
var predicted = ml.Data.CreateEnumerable<Prediction>(model.Transform(ml.Data.LoadFromEnumerable(test)), reuseRowObject: false)
    .Select(p => p.PredictedText).ToList();

var labels = train.Select(r => r.Label).Distinct().Order(StringComparer.Ordinal).ToList();
double F1(string label)
{
    var tp = test.Where((r, i) => r.Label == label && predicted[i] == label).Count();
    var fp = test.Where((r, i) => r.Label != label && predicted[i] == label).Count();
    var fn = test.Where((r, i) => r.Label == label && predicted[i] != label).Count();
    return tp == 0 ? 0 : 2.0 * tp / (2 * tp + fp + fn);
}
var result = new
{
    accuracy = test.Where((r, i) => r.Label == predicted[i]).Count() / (double)test.Count,
    macro_f1 = labels.Average(F1),
    f1 = labels.Count == 2 ? F1(labels[1]) : double.NaN,
    seconds = clock.Elapsed.TotalSeconds,
};
Console.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
return 0;

internal sealed class Row
{
    public string Text { get; set; } = "";
    public string Pair { get; set; } = "";
    public string Label { get; set; } = "";
}

internal sealed class Prediction
{
    [ColumnName("PredictedText")]
    public string PredictedText { get; set; } = "";
}

internal static class Rows
{
    public static List<Row> Read(string path) => File.ReadLines(path).Skip(1).Where(l => l.Length > 0).Select(l =>
    {
        var f = l.Split('\t');
        return new Row { Text = f[0], Pair = f[1], Label = f[2] };
    }).ToList();
}
