using System.Globalization;
using System.Text;
using Google.Protobuf;

namespace Microsoft.ML.Lorenza.Text;

/// <summary>
/// SentencePiece's precompiled normalization map (normalizer_spec.precompiled_charsmap; tokenizer.json's Precompiled
/// normalizer): a little-endian uint32 byte size, a darts-clone double-array trie over UTF-8 keys, then the pool of
/// NUL-terminated replacement strings the trie's values point into. <see cref="Normalize"/> applies it as Hugging Face's
/// tokenizers do: per grapheme cluster, the whole cluster when it is shorter than 6 UTF-8 bytes and the trie has an entry
/// for it, else character by character.
/// </summary>
public sealed class PrecompiledCharsmap
{
    private readonly uint[] units;
    private readonly byte[] pool;

    public PrecompiledCharsmap(byte[] blob, string source)
    {
        if (blob.Length < 4) throw new InvalidDataException($"{source}: the precompiled charsmap is {blob.Length} bytes; it needs at least its 4-byte trie size.");
        var trieBytes = BitConverter.ToUInt32(blob, 0);
        if (trieBytes % 4 != 0 || 4 + (long)trieBytes > blob.Length || trieBytes == 0)
            throw new InvalidDataException($"{source}: the precompiled charsmap's trie size {trieBytes} does not fit its {blob.Length} bytes.");
        units = new uint[trieBytes / 4];
        Buffer.BlockCopy(blob, 4, units, 0, (int)trieBytes);
        pool = blob[(4 + (int)trieBytes)..];
    }

    /// <summary>The charsmap inside a SentencePiece ModelProto (normalizer_spec = field 3, precompiled_charsmap = its field 2); null when it has none.</summary>
    public static byte[]? FromModelProto(byte[] model)
    {
        var input = new CodedInputStream(model);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (tag == ((3 << 3) | 2))
            {
                var spec = new CodedInputStream(input.ReadBytes().ToByteArray());
                uint inner;
                while ((inner = spec.ReadTag()) != 0)
                {
                    if (inner == ((2 << 3) | 2)) return spec.ReadBytes().ToByteArray();
                    spec.SkipLastField();
                }
                return null;
            }
            input.SkipLastField();
        }
        return null;
    }

    // darts-clone unit fields.
    private static bool HasLeaf(uint u) => ((u >> 8) & 1) == 1;
    private static uint Value(uint u) => u & ((1u << 31) - 1);
    private static uint Label(uint u) => u & ((1u << 31) | 0xFF);
    private static uint Offset(uint u) => (u >> 10) << (int)((u & (1u << 9)) >> 6);

    /// <summary>The replacement of the first (shortest) key that is a prefix of <paramref name="key"/>, or null.</summary>
    private string? Transform(ReadOnlySpan<byte> key)
    {
        uint position = 0;
        var unit = units[position];
        position ^= Offset(unit);
        foreach (var c in key)
        {
            if (c == 0) break;
            position ^= c;
            if (position >= units.Length) return null;
            unit = units[position];
            if (Label(unit) != c) return null;
            position ^= Offset(unit);
            if (HasLeaf(unit))
            {
                var start = (int)Value(units[position]);
                var end = start;
                while (end < pool.Length && pool[end] != 0) end++;
                return Encoding.UTF8.GetString(pool, start, end - start);
            }
        }
        return null;
    }

    /// <summary>The normalized text, as Hugging Face's Precompiled normalizer computes it.</summary>
    public string Normalize(string text)
    {
        var result = new StringBuilder(text.Length);
        var bytes = new byte[64];
        var enumerator = StringInfo.GetTextElementEnumerator(text);
        while (enumerator.MoveNext())
        {
            var grapheme = (string)enumerator.Current;
            var length = Encoding.UTF8.GetByteCount(grapheme);
            if (length < 6)
            {
                Encoding.UTF8.GetBytes(grapheme, bytes);
                if (Transform(bytes.AsSpan(0, length)) is { } whole) { result.Append(whole); continue; }
            }
            foreach (var rune in grapheme.EnumerateRunes())
            {
                var n = rune.EncodeToUtf8(bytes);
                if (Transform(bytes.AsSpan(0, n)) is { } part) result.Append(part);
                else result.Append(rune.ToString());
            }
        }
        return result.ToString();
    }

    /// <summary>The characters (code points) the map deletes: those whose replacement is empty.</summary>
    public IReadOnlySet<int> Deleted()
    {
        var deleted = new HashSet<int>();
        var bytes = new byte[4];
        for (var cp = 0; cp <= 0x10FFFF; cp++)
        {
            if (cp is >= 0xD800 and <= 0xDFFF) continue;
            var n = new Rune(cp).EncodeToUtf8(bytes);
            if (Transform(bytes.AsSpan(0, n)) is { Length: 0 }) deleted.Add(cp);
        }
        return deleted;
    }
}
