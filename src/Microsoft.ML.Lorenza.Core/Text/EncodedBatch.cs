namespace Microsoft.ML.Lorenza.Text;

/// <summary>
/// Token ids of several sequences padded to one length, row-major [BatchSize, SequenceLength], with an
/// attention mask (1 = token, 0 = padding) and token type ids (0 = first text, 1 = second text of a pair;
/// 0 on padding). Long arrays, ready to become int64 tensors.
/// </summary>
public sealed record EncodedBatch(long[] InputIds, long[] AttentionMask, long[] TokenTypeIds, int BatchSize, int SequenceLength)
{
    /// <summary>Right-pads every row to the longest one with <paramref name="padId"/>; all token types 0.</summary>
    public static EncodedBatch Pad(IReadOnlyList<int[]> rows, int padId) =>
        Pad(rows.Select(r => new EncodedText(r, new int[r.Length])).ToList(), padId);

    /// <summary>Right-pads every row to the longest one with <paramref name="padId"/> (type 0 on padding).</summary>
    public static EncodedBatch Pad(IReadOnlyList<EncodedText> rows, int padId)
    {
        var length = rows.Count == 0 ? 0 : rows.Max(r => r.Ids.Length);
        var ids = new long[rows.Count * length];
        var mask = new long[rows.Count * length];
        var types = new long[rows.Count * length];
        for (var r = 0; r < rows.Count; r++)
        {
            for (var c = 0; c < length; c++)
            {
                var real = c < rows[r].Ids.Length;
                ids[r * length + c] = real ? rows[r].Ids[c] : padId;
                mask[r * length + c] = real ? 1 : 0;
                types[r * length + c] = real ? rows[r].TypeIds[c] : 0;
            }
        }
        return new EncodedBatch(ids, mask, types, rows.Count, length);
    }
}
