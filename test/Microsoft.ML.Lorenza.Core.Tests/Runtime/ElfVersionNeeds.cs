using System.Buffers.Binary;
using System.Text;

namespace Microsoft.ML.Lorenza.Tests.Runtime;

/// <summary>
/// One symbol-version requirement of an ELF file (an Elf64_Vernaux entry of its .gnu.version_r section), with the
/// file offset of its vna_flags field. Read here from the ELF specification, independently of the build task's
/// reader (this one finds the section by name), so that the tests check the task rather than repeat it.
/// </summary>
internal sealed record VersionNeed(string File, string Version, ushort Flags, int FlagsOffset)
{
    private const ushort VerFlgWeak = 0x2;

    public bool Weak => (Flags & VerFlgWeak) != 0;

    /// <summary>Every requirement of a 64-bit little-endian ELF file, in the order the file lists them.</summary>
    public static IReadOnlyList<VersionNeed> ReadAll(byte[] elf)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || Encoding.ASCII.GetString(elf, 1, 3) != "ELF" || elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("not a 64-bit little-endian ELF file");
        // Elf64_Ehdr: e_shoff at 0x28, e_shentsize 0x3A, e_shnum 0x3C, e_shstrndx 0x3E.
        var sectionTable = (int)U64(elf, 0x28);
        int entrySize = U16(elf, 0x3A), count = U16(elf, 0x3C), namesIndex = U16(elf, 0x3E);
        // Elf64_Shdr: sh_name 0, sh_offset 24, sh_link 40, sh_info 44.
        int Header(int index) => sectionTable + index * entrySize;
        var names = (int)U64(elf, Header(namesIndex) + 24);
        var verneed = Enumerable.Range(0, count).Select(Header)
            .SingleOrDefault(h => CString(elf, names + (int)U32(elf, h)) == ".gnu.version_r", -1);
        if (verneed < 0) return [];
        var strings = (int)U64(elf, Header((int)U32(elf, verneed + 40)) + 24);

        var needs = new List<VersionNeed>();
        var need = (int)U64(elf, verneed + 24);
        for (var n = 0; n < (int)U32(elf, verneed + 44); n++)
        {
            // Elf64_Verneed: vn_version 0, vn_cnt 2, vn_file 4, vn_aux 8, vn_next 12.
            var file = CString(elf, strings + (int)U32(elf, need + 4));
            var aux = need + (int)U32(elf, need + 8);
            for (var a = 0; a < U16(elf, need + 2); a++)
            {
                // Elf64_Vernaux: vna_hash 0, vna_flags 4, vna_other 6, vna_name 8, vna_next 12.
                needs.Add(new VersionNeed(file, CString(elf, strings + (int)U32(elf, aux + 8)), U16(elf, aux + 4), aux + 4));
                aux += (int)U32(elf, aux + 12);
            }
            need += (int)U32(elf, need + 12);
        }
        return needs;
    }

    private static ushort U16(byte[] b, int at) => BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(at));
    private static uint U32(byte[] b, int at) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at));
    private static ulong U64(byte[] b, int at) => BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(at));
    private static string CString(byte[] b, int at) => Encoding.ASCII.GetString(b, at, Array.IndexOf(b, (byte)0, at) - at);
}
