// An MSBuild task, compiled by RoslynCodeTaskFactory from Microsoft.ML.Lorenza.Core.targets (it is not part of
// the Core assembly). It makes TorchSharp's libLibTorchSharp.so load on Linux systems whose libstdc++ is older
// than the GCC 13 one it was linked against (Debian 12, Ubuntu 22.04: GLIBCXX_3.4.30 at most).
//
// Why the patch is safe: the library requires version GLIBCXX_3.4.32 only for std::ios_base_library_init, a
// symbol GCC 13 references from every object that includes <iostream> to pull in the right libstdc++, but
// that no relocation uses. The dynamic linker refuses a library whose version requirement is unmet unless the
// requirement is marked weak (VER_FLG_WEAK in its .gnu.version_r entry). The task checks that every missing
// version is used by no relocation before it marks it weak, writes the result as a NEW file in place of the
// copied one (the copy may be a hard link into the NuGet cache, which must never change) and says so in one
// line. Where libstdc++ defines every required version, nothing is written.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class PatchLibTorchSharp : Task
{
    /// <summary>The libLibTorchSharp.so files in the output folder.</summary>
    [Required]
    public ITaskItem[] Libraries { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The libstdc++.so.6 the app will run against (empty: the system's).</summary>
    public string LibStdCxx { get; set; } = "";

    /// <summary>
    /// Weaken every libstdc++ version requirement that no relocation uses, whatever this machine's libstdc++ has
    /// (for apps built on a newer system and run on an older one).
    /// </summary>
    public bool Always { get; set; }

    /// <summary>The libraries that were rewritten.</summary>
    [Output]
    public ITaskItem[] Patched { get; set; } = Array.Empty<ITaskItem>();

    private static readonly string[] SystemLibStdCxx =
    {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
    };

    public override bool Execute()
    {
        var libstdcxx = LibStdCxx.Length > 0 ? LibStdCxx : SystemLibStdCxx.FirstOrDefault(File.Exists);
        if (!Always && (libstdcxx is null || !File.Exists(libstdcxx)))
        {
            Log.LogMessage(MessageImportance.Low, "[lorenza] no libstdc++.so.6 found: libLibTorchSharp.so left as it is.");
            return true;
        }
        var defined = Always ? new HashSet<string>() : new HashSet<string>(ElfFile.Read(File.ReadAllBytes(libstdcxx!)).DefinedVersions);
        var patched = new List<ITaskItem>();
        foreach (var item in Libraries)
        {
            var path = Path.GetFullPath(item.ItemSpec); // the messages name the file itself, not a path relative to some project
            if (!File.Exists(path)) continue;
            var bytes = File.ReadAllBytes(path);
            var elf = ElfFile.Read(bytes);
            var missing = elf.Needs.Where(n => n.File == "libstdc++.so.6" && !n.Weak && !defined.Contains(n.Version)).ToList();
            if (Always) missing = missing.Where(n => !elf.VersionUsedByRelocation(n.Index)).ToList();
            if (missing.Count == 0)
            {
                Log.LogMessage(MessageImportance.Low, Always
                    ? $"[lorenza] {path} has no libstdc++ version requirement that could be marked weak: not patched."
                    : $"[lorenza] {libstdcxx} defines every version {path} needs: not patched.");
                continue;
            }
            var used = missing.Where(n => elf.VersionUsedByRelocation(n.Index)).Select(n => n.Version).ToList();
            var names = string.Join(", ", missing.Select(n => n.Version));
            if (used.Count > 0)
            {
                Log.LogWarning($"[lorenza] {Path.GetFileName(path)} needs {names}, which {libstdcxx} lacks, and calls symbols of {string.Join(", ", used)}: it will not load here; install a newer libstdc++ (GCC 13 or later).");
                continue;
            }
            foreach (var need in missing) ElfFile.MarkWeak(bytes, need.AuxOffset);
            // A new file replaces the directory entry: a hard link to the NuGet cache keeps the original bytes.
            var temporary = path + ".lorenza-tmp";
            File.WriteAllBytes(temporary, bytes);
            File.Delete(path);
            File.Move(temporary, path);
            Log.LogMessage(MessageImportance.High, Always
                ? $"[lorenza] LorenzaPatchLibTorchSharp=always: wrote {path} with {names} marked weak (no relocation uses its symbols)."
                : $"[lorenza] {libstdcxx} lacks {names}: wrote {path} with that requirement marked weak (no relocation uses its symbols).");
            patched.Add(item);
        }
        Patched = patched.ToArray();
        return !Log.HasLoggedErrors;
    }

    /// <summary>The few parts of a 64-bit little-endian ELF shared library the patch needs.</summary>
    private sealed class ElfFile
    {
        private const uint ShtRela = 4, ShtDynsym = 11, ShtVerdef = 0x6ffffffd, ShtVerneed = 0x6ffffffe, ShtVersym = 0x6fffffff;
        private const ushort VerFlgWeak = 0x2;

        public List<string> DefinedVersions { get; } = new List<string>();
        public List<VersionNeed> Needs { get; } = new List<VersionNeed>();
        private readonly List<ushort> symbolVersions = new List<ushort>();
        private readonly HashSet<uint> relocatedSymbols = new HashSet<uint>();

        public sealed class VersionNeed
        {
            public string File = "", Version = "";
            public ushort Index;
            public bool Weak;
            public int AuxOffset;
        }

        public static ElfFile Read(byte[] b)
        {
            if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F' || b[4] != 2 || b[5] != 1)
                throw new InvalidDataException("not a 64-bit little-endian ELF file");
            var elf = new ElfFile();
            var sectionTable = (int)U64(b, 0x28);
            int entrySize = U16(b, 0x3A), count = U16(b, 0x3C);
            var sections = Enumerable.Range(0, count).Select(i => sectionTable + i * entrySize).Select(h => new
            {
                Type = U32(b, h + 4), Offset = (int)U64(b, h + 24), Size = (int)U64(b, h + 32), Link = (int)U32(b, h + 40), Info = U32(b, h + 44),
            }).ToList();
            var dynsym = sections.FindIndex(s => s.Type == ShtDynsym);
            foreach (var s in sections)
            {
                var strings = sections[s.Link].Offset;
                if (s.Type == ShtVerdef)
                {
                    for (int p = s.Offset, k = 0; k < (int)s.Info; k++)
                    {
                        elf.DefinedVersions.Add(Str(b, strings + (int)U32(b, p + (int)U32(b, p + 12))));
                        var next = (int)U32(b, p + 16);
                        if (next == 0) break;
                        p += next;
                    }
                }
                else if (s.Type == ShtVerneed)
                {
                    for (int p = s.Offset, k = 0; k < (int)s.Info; k++)
                    {
                        var file = Str(b, strings + (int)U32(b, p + 4));
                        var a = p + (int)U32(b, p + 8);
                        for (var j = 0; j < U16(b, p + 2); j++)
                        {
                            elf.Needs.Add(new VersionNeed
                            {
                                File = file, Version = Str(b, strings + (int)U32(b, a + 8)), Index = U16(b, a + 6),
                                Weak = (U16(b, a + 4) & VerFlgWeak) != 0, AuxOffset = a,
                            });
                            a += (int)U32(b, a + 12);
                        }
                        var next = (int)U32(b, p + 12);
                        if (next == 0) break;
                        p += next;
                    }
                }
                else if (s.Type == ShtVersym)
                {
                    for (var p = s.Offset; p < s.Offset + s.Size; p += 2) elf.symbolVersions.Add(U16(b, p));
                }
                else if (s.Type == ShtRela && s.Link == dynsym)
                {
                    for (var p = s.Offset; p + 24 <= s.Offset + s.Size; p += 24) elf.relocatedSymbols.Add((uint)(U64(b, p + 8) >> 32));
                }
            }
            return elf;
        }

        /// <summary>True when a dynamic relocation refers to a symbol of version <paramref name="index"/>.</summary>
        public bool VersionUsedByRelocation(ushort index) =>
            relocatedSymbols.Any(s => s != 0 && s < symbolVersions.Count && (symbolVersions[(int)s] & 0x7fff) == index);

        public static void MarkWeak(byte[] b, int auxOffset)
        {
            var flags = (ushort)(U16(b, auxOffset + 4) | VerFlgWeak);
            b[auxOffset + 4] = (byte)flags;
            b[auxOffset + 5] = (byte)(flags >> 8);
        }

        private static ushort U16(byte[] b, int p) => BitConverter.ToUInt16(b, p);
        private static uint U32(byte[] b, int p) => BitConverter.ToUInt32(b, p);
        private static ulong U64(byte[] b, int p) => BitConverter.ToUInt64(b, p);

        private static string Str(byte[] b, int p)
        {
            var end = Array.IndexOf(b, (byte)0, p);
            return Encoding.ASCII.GetString(b, p, end - p);
        }
    }
}
