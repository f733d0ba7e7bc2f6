using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Microsoft.ML.Lorenza;

/// <summary>
/// Reading JSON that comes from outside (config.json, lorenza.json, tokenizer files): every failure — not JSON, too
/// deeply nested, a value of the wrong type or out of range — is an <see cref="InvalidDataException"/> naming the
/// file and the key, the one exception type the readers of outside bytes throw.
/// </summary>
internal static class JsonFile
{
    /// <summary>Nesting is bounded; a key twice in one object is refused (a JsonObject would otherwise throw on first use).</summary>
    public static readonly JsonDocumentOptions Options = new() { MaxDepth = 64, AllowDuplicateProperties = false };

    /// <summary>The file's top-level JSON object; <paramref name="fix"/> is appended to the message ("replace it with …").</summary>
    public static JsonObject ReadObject(string path, string? fix = null) => ParseObject(File.ReadAllText(path), path, fix);

    public static JsonObject ParseObject(string text, string source, string? fix = null)
    {
        JsonNode? node;
        try { node = JsonNode.Parse(text, documentOptions: Options); }
        // A lone surrogate escape ("\uDDDD") is an InvalidOperationException of the parser, not a JsonException (found by fuzzing).
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new InvalidDataException($"{source} is not valid JSON ({Reason(e)}){(fix is null ? "." : "; " + fix)}", e);
        }
        return node as JsonObject ?? throw new InvalidDataException($"{source} holds {Describe(node)}, not a JSON object{(fix is null ? "." : "; " + fix)}");
    }

    /// <summary>The parser's message on one line: the path it quotes may hold a key with a line break (found by fuzzing vocab.json).</summary>
    public static string Reason(Exception e) => OneLine.Escape(e.Message.TrimEnd());

    /// <summary>The whole number at <paramref name="key"/>, <paramref name="fallback"/> when absent (or null, as Hugging Face writes unset values).</summary>
    public static int Int(JsonObject json, string key, string source, int fallback) =>
        json[key] is { } node ? Int(node, key, source) : fallback;

    public static int Int(JsonNode? node, string key, string source) =>
        Number(node) is { } d && d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue ? (int)d : throw WrongType(source, key, node, "a whole number");

    public static double Double(JsonObject json, string key, string source, double fallback) =>
        json[key] is { } node ? Double(node, key, source) : fallback;

    public static double Double(JsonNode? node, string key, string source) =>
        Number(node) is { } d && double.IsFinite(d) ? d : throw WrongType(source, key, node, "a number");

    // Through the JSON text, so a value built in memory (a JsonValue of int) reads like one parsed from a file.
    private static double? Number(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number
        && double.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;

    public static string? String(JsonObject json, string key, string source) =>
        json[key] is { } node ? String(node, key, source) : null;

    public static string String(JsonNode? node, string key, string source) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : throw WrongType(source, key, node, "a string");

    public static bool? Bool(JsonObject json, string key, string source) =>
        json[key] switch
        {
            null => null,
            JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
            var other => throw WrongType(source, key, other, "true or false"),
        };

    public static InvalidDataException WrongType(string source, string key, JsonNode? node, string expected) =>
        new($"{source}: \"{key}\" must be {expected}, not {Describe(node)}.");

    /// <summary>"the string \"768\"", "the number 1e+300", "an object", … (short: it goes into a one-line message).</summary>
    public static string Describe(JsonNode? node)
    {
        if (node is null) return "null";
        var kind = node.GetValueKind();
        string Short(string s) => s.Length <= 40 ? s : s[..40] + "…";
        return kind switch
        {
            JsonValueKind.String => $"the string \"{Short(node.GetValue<string>())}\"",
            JsonValueKind.Number => $"the number {Short(node.ToJsonString())}",
            JsonValueKind.True or JsonValueKind.False => $"the value {node.ToJsonString()}",
            JsonValueKind.Array => "an array",
            JsonValueKind.Object => "an object",
            _ => "null",
        };
    }
}
