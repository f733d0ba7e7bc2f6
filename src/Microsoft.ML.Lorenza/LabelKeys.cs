using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.ML.Data;

namespace Microsoft.ML.Lorenza;

/// <summary>
/// The label's key type: the class count and, when the label has them, its KeyValues (the original label
/// values, e.g. "positive"/"negative"). PredictedLabel carries the same KeyValues so MapKeyToValue works; their
/// text forms name the classes in the engine's model, its config.json and the ONNX metadata.
/// </summary>
internal sealed class LabelKeys
{
    public const string KeyValuesKind = "KeyValues";
    public const string SlotNamesKind = "SlotNames";

    // Item types whose KeyValues survive LorenzaTransformer.Save/Load (by invariant text).
    private static readonly Dictionary<string, PrimitiveDataViewType> SavableTypes = new()
    {
        ["Text"] = TextDataViewType.Instance,
        ["Single"] = NumberDataViewType.Single,
        ["Double"] = NumberDataViewType.Double,
        ["Int32"] = NumberDataViewType.Int32,
        ["Int64"] = NumberDataViewType.Int64,
        ["UInt32"] = NumberDataViewType.UInt32,
        ["UInt64"] = NumberDataViewType.UInt64,
        ["Boolean"] = BooleanDataViewType.Instance,
    };

    private LabelKeys(int count, PrimitiveDataViewType? valueType, Array? values)
    {
        Count = count;
        ValueType = valueType;
        Values = values;
        Names = values is null
            ? Enumerable.Range(1, count).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList()
            : UniqueNames(values.Cast<object>().Select(ToText).ToList());
    }

    public int Count { get; }
    /// <summary>Item type of the KeyValues; null when the label has none.</summary>
    public PrimitiveDataViewType? ValueType { get; }
    private Array? Values { get; }
    /// <summary>One distinct name per class, in key order (key 1 first).</summary>
    public IReadOnlyList<string> Names { get; }

    public static LabelKeys FromColumn(DataViewSchema.Column label, KeyDataViewType keyType)
    {
        var count = checked((int)keyType.Count);
        var kv = label.Annotations.Schema.GetColumnOrNull(KeyValuesKind);
        if (kv is not { Type: VectorDataViewType { ItemType: PrimitiveDataViewType itemType } vector } || vector.Size != count)
            return new LabelKeys(count, null, null);
        var values = (Array)Generic(nameof(ReadValues), itemType.RawType).Invoke(null, [label.Annotations])!;
        return new LabelKeys(count, itemType, values);
    }

    /// <summary>The KeyValues annotation for PredictedLabel (empty when the label had none).</summary>
    public DataViewSchema.Annotations KeyValuesAnnotations()
    {
        var builder = new DataViewSchema.Annotations.Builder();
        if (ValueType is not null)
            Generic(nameof(AddValues), ValueType.RawType).Invoke(null, [builder, KeyValuesKind, ValueType, Values]);
        return builder.ToAnnotations();
    }

    /// <summary>The SlotNames annotation for Score: the class names, when the label has KeyValues (as ML.NET's trainers do).</summary>
    public DataViewSchema.Annotations SlotNamesAnnotations()
    {
        var builder = new DataViewSchema.Annotations.Builder();
        if (ValueType is not null)
            AddValues(builder, SlotNamesKind, TextDataViewType.Instance, Names.Select(n => n.AsMemory()).ToArray());
        return builder.ToAnnotations();
    }

    public JsonObject ToJson()
    {
        var json = new JsonObject { ["count"] = Count };
        if (ValueType is null) return json;
        var typeName = SavableTypes.FirstOrDefault(kv => kv.Value.Equals(ValueType)).Key
            ?? throw new NotSupportedException($"The label's key values are of type {ValueType}; saving supports {string.Join(", ", SavableTypes.Keys)}. Map the label from one of those types.");
        json["value_type"] = typeName;
        json["values"] = new JsonArray(Values!.Cast<object>().Select(v => (JsonNode?)ToText(v)).ToArray());
        return json;
    }

    public static LabelKeys FromJson(JsonObject json)
    {
        var count = json["count"]!.GetValue<int>();
        if (json["value_type"]?.GetValue<string>() is not { } typeName) return new LabelKeys(count, null, null);
        if (!SavableTypes.TryGetValue(typeName, out var type)) throw new InvalidDataException($"Unknown label value type '{typeName}' in the saved model.");
        var texts = json["values"]!.AsArray().Select(v => v!.GetValue<string>()).ToArray();
        var values = (Array)Generic(nameof(ParseValues), type.RawType).Invoke(null, [texts])!;
        return new LabelKeys(count, type, values);
    }

    private static MethodInfo Generic(string name, Type t) =>
        typeof(LabelKeys).GetMethod(name, BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(t);

    private static T[] ReadValues<T>(DataViewSchema.Annotations annotations)
    {
        VBuffer<T> buffer = default;
        annotations.GetValue(KeyValuesKind, ref buffer);
        return buffer.DenseValues().ToArray();
    }

    private static void AddValues<T>(DataViewSchema.Annotations.Builder builder, string kind, PrimitiveDataViewType itemType, T[] values)
    {
        ValueGetter<VBuffer<T>> getter = (ref VBuffer<T> dst) => new VBuffer<T>(values.Length, values).CopyTo(ref dst);
        builder.Add(kind, new VectorDataViewType(itemType, values.Length), getter);
    }

    private static T[] ParseValues<T>(string[] texts) => texts.Select(t => (T)Parse(t, typeof(T))).ToArray();

    private static object Parse(string text, Type type) =>
        type == typeof(ReadOnlyMemory<char>) ? text.AsMemory() : Convert.ChangeType(text, type, CultureInfo.InvariantCulture);

    private static string ToText(object value) => value switch
    {
        ReadOnlyMemory<char> text => text.ToString(),
        IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    // Class names must be distinct for the engine (a model's id2label); suffix the key on a collision.
    private static List<string> UniqueNames(List<string> names)
    {
        var counts = names.GroupBy(n => n, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        return names.Select((n, i) => counts[n] > 1 ? $"{n} (key {i + 1})" : n).ToList();
    }
}
