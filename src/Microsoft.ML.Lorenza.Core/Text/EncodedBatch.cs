namespace Microsoft.ML.Lorenza.Text;

/// <summary>
/// Token ids of several sequences padded to one length, row-major [BatchSize, SequenceLength], with an
/// attention mask (1 = token, 0 = padding). Long arrays, ready to become int64 tensors.
/// </summary>
public sealed record EncodedBatch(long[] InputIds, long[] AttentionMask, int BatchSize, int SequenceLength)
{
    /// <summary>Right-pads every row to the longest one with <paramref name="padId"/>.</summary>
    public static EncodedBatch Pad(IReadOnlyList<int[]> rows, int padId)
    {
        var length = rows.Count == 0 ? 0 : rows.Max(r => r.Length);
        var ids = new long[rows.Count * length];
        var mask = new long[rows.Count * length];
        for (var r = 0; r < rows.Count; r++)
        {
            for (var c = 0; c < length; c++)
            {
                var real = c < rows[r].Length;
                ids[r * length + c] = real ? rows[r][c] : padId;
                mask[r * length + c] = real ? 1 : 0;
            }
        }
        return new EncodedBatch(ids, mask, rows.Count, length);
    }
}
