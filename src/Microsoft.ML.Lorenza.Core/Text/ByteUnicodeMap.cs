namespace Microsoft.ML.Lorenza.Text;

/// <summary>
/// GPT-2's reversible byte ↔ character map: printable bytes stand for themselves, the other 68 bytes
/// (controls, space, …) map to U+0100 onwards, so every byte sequence is a string of visible
/// characters (space → 'Ġ', newline → 'Ċ').
/// </summary>
internal static class ByteUnicodeMap
{
    public static readonly char[] ByteToChar = Build();
    public static readonly Dictionary<char, byte> CharToByte = ByteToChar.Select((c, b) => (c, b)).ToDictionary(p => p.c, p => (byte)p.b);

    private static char[] Build()
    {
        var map = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)next++;
        }
        return map;
    }
}
