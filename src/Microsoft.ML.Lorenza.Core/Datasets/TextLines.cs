using System.Text;

namespace Microsoft.ML.Lorenza.Datasets;

/// <summary>
/// Lines of a text file with their 1-based numbers, decoded as strict UTF-8 (a BOM is dropped, "\r\n"
/// ends a line like "\n"). A NUL byte (a binary file) or bytes that are not UTF-8 stop the read with one
/// line naming the file, the line and the byte, before any of it can become a column name or a label.
/// </summary>
internal static class TextLines
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static IEnumerable<(string Line, int Number)> Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var chunk = new byte[1 << 16];
        var line = new byte[256];
        var length = 0;
        var number = 0;
        int read;
        while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                if (chunk[i] == (byte)'\n')
                {
                    yield return (Decode(path, line, length, ++number), number);
                    length = 0;
                    continue;
                }
                if (length == line.Length) Array.Resize(ref line, line.Length * 2);
                line[length++] = chunk[i];
            }
        }
        if (length > 0) yield return (Decode(path, line, length, ++number), number);
    }

    private static string Decode(string path, byte[] bytes, int length, int number)
    {
        var start = number == 1 && length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
        if (length > start && bytes[length - 1] == (byte)'\r') length--;
        var span = bytes.AsSpan(start, length - start);
        var nul = span.IndexOf((byte)0);
        if (nul >= 0)
            throw new InvalidDataException($"{path} line {number}: a NUL byte at byte {nul + 1}: this is a binary file, not TSV/CSV text; pass a tab- or comma-separated text file.");
        try
        {
            return Strict.GetString(span);
        }
        catch (DecoderFallbackException e)
        {
            var at = Math.Max(0, e.Index);
            var value = at < span.Length ? $"0x{span[at]:X2}" : "an incomplete sequence";
            throw new InvalidDataException($"{path} line {number}: {value} at byte {at + 1} is not UTF-8; save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8).");
        }
    }
}
