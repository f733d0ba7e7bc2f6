using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;

namespace Microsoft.ML.Lorenza.Tests.BadInputs;

/// <summary>
/// Damaged copies of a valid file, drawn from a seeded generator: truncations, bit flips, bytes inserted or dropped,
/// and for text, numbers made huge or negative, JSON values of the wrong type and deep nesting. A safetensors file
/// also gets its header edited as JSON (its length prefix kept right, so the damage reaches past the framing).
/// </summary>
public static partial class Mutations
{
    private static readonly string[] Numbers =
    [
        "0", "-1", "1000000", "2147483647", "2147483648", "-2147483649", "9223372036854775807", "99999999999999999999999",
        "1e308", "1e400", "-1e-400", "0.5", "1.5e9", "NaN", "Infinity",
    ];

    private static readonly string[] WrongTypes = ["\"768\"", "\"\"", "[]", "{}", "null", "true", "[1,[2]]", "{\"a\":1}", "\"\\u0000\"", "-0"];

    /// <summary>One damaged copy of <paramref name="original"/> and what was done to it.</summary>
    public static (byte[] Bytes, string What) Next(Random random, byte[] original, bool safetensors)
    {
        if (safetensors && random.Next(2) == 0 && HeaderOf(original) is { } header)
        {
            var (json, what) = MutateText(random, header.Json);
            return (WithHeader(original, json, header.End), $"header: {what}");
        }
        return random.Next(10) switch
        {
            < 4 when LooksLikeText(original) => MutateTextBytes(random, original),
            _ => MutateBytes(random, original),
        };
    }

    private static (byte[], string) MutateTextBytes(Random random, byte[] original)
    {
        var (text, what) = MutateText(random, Encoding.UTF8.GetString(original));
        return (Encoding.UTF8.GetBytes(text), what);
    }

    private static (string, string) MutateText(Random random, string text)
    {
        switch (random.Next(5))
        {
            case 0 when NumberLiteral().Matches(text) is { Count: > 0 } numbers:
                {
                    var m = numbers[random.Next(numbers.Count)];
                    var value = Numbers[random.Next(Numbers.Length)];
                    return (text[..m.Index] + value + text[(m.Index + m.Length)..], $"number {m.Value} at {m.Index} → {value}");
                }
            case 1 when JsonValue().Matches(text) is { Count: > 0 } values:
                {
                    var m = values[random.Next(values.Count)];
                    var value = WrongTypes[random.Next(WrongTypes.Length)];
                    return (text[..m.Index] + value + text[(m.Index + m.Length)..], $"value {Short(m.Value)} at {m.Index} → {value}");
                }
            case 2:
                {
                    var depth = random.Next(2) == 0 ? 100 : 100_000;
                    var at = random.Next(text.Length + 1);
                    var open = random.Next(2) == 0 ? "[" : "{\"a\":";
                    return (text[..at] + string.Concat(Enumerable.Repeat(open, depth)) + text[at..], $"{depth} × '{open}' at {at}");
                }
            case 3:
                {
                    // A line or element repeated: duplicate keys, duplicate tokens, repeated rows.
                    var start = random.Next(text.Length + 1);
                    var length = Math.Min(text.Length - start, random.Next(1, 200));
                    return (text[..start] + text.Substring(start, length) + text[start..], $"{length} chars at {start} repeated");
                }
            default:
                {
                    var at = random.Next(text.Length + 1);
                    return (text[..at], $"cut at char {at} of {text.Length}");
                }
        }
    }

    private static (byte[], string) MutateBytes(Random random, byte[] original)
    {
        var bytes = (byte[])original.Clone();
        switch (random.Next(5))
        {
            case 0:
                {
                    var at = random.Next(original.Length + 1);
                    return (original[..at], $"truncated to {at} of {original.Length} bytes");
                }
            case 1:
                {
                    var flips = random.Next(1, 5);
                    for (var i = 0; i < flips && bytes.Length > 0; i++) bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                    return (bytes, $"{flips} bit(s) flipped");
                }
            case 2 when bytes.Length >= 8:
                {
                    // A little-endian 8-byte field (the safetensors header length among them) set to something absurd.
                    var at = random.Next(2) == 0 ? 0 : random.Next(bytes.Length - 7);
                    ulong[] values = [0, 1, 7, 8, (ulong)original.Length, (ulong)original.Length - 7, uint.MaxValue, long.MaxValue, ulong.MaxValue];
                    var value = values[random.Next(values.Length)];
                    BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at), value);
                    return (bytes, $"8 bytes at {at} set to {value}");
                }
            case 3:
                {
                    var at = random.Next(bytes.Length + 1);
                    var junk = new byte[random.Next(1, 64)];
                    random.NextBytes(junk);
                    if (random.Next(2) == 0) Array.Fill(junk, new byte[] { 0, 0xFF, (byte)'\n', (byte)'\t' }[random.Next(4)]);
                    return ([.. bytes[..at], .. junk, .. bytes[at..]], $"{junk.Length} bytes inserted at {at}");
                }
            default:
                {
                    var at = random.Next(bytes.Length + 1);
                    var length = Math.Min(bytes.Length - at, random.Next(1, 64));
                    return ([.. bytes[..at], .. bytes[(at + length)..]], $"{length} bytes removed at {at}");
                }
        }
    }

    private static bool LooksLikeText(byte[] bytes) => bytes.Length > 0 && !bytes.AsSpan(0, Math.Min(bytes.Length, 64)).Contains((byte)0);

    private static (string Json, int End)? HeaderOf(byte[] file)
    {
        if (file.Length < 8) return null;
        var length = BinaryPrimitives.ReadUInt64LittleEndian(file);
        return length <= (ulong)(file.Length - 8) ? (Encoding.UTF8.GetString(file, 8, (int)length), 8 + (int)length) : null;
    }

    private static byte[] WithHeader(byte[] file, string json, int end)
    {
        var header = Encoding.UTF8.GetBytes(json);
        var result = new byte[8 + header.Length + file.Length - end];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)header.Length);
        header.CopyTo(result, 8);
        file.AsSpan(end).CopyTo(result.AsSpan(8 + header.Length));
        return result;
    }

    private static string Short(string s) => s.Length <= 30 ? s : s[..30] + "…";

    [GeneratedRegex(@"-?\d+(\.\d+)?([eE][-+]?\d+)?")]
    private static partial Regex NumberLiteral();

    // A JSON scalar after a colon or in an array: a string, number, true/false/null.
    [GeneratedRegex(@"(?<=[:\[,]\s*)(""(?:[^""\\]|\\.)*""|-?\d[\d.eE+-]*|true|false|null)")]
    private static partial Regex JsonValue();
}
