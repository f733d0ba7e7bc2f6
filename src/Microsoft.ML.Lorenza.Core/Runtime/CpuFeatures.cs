using System.Runtime.Intrinsics.X86;

namespace Microsoft.ML.Lorenza.Runtime;

/// <summary>
/// The processor's bf16 instructions, read once with CPUID (the same on Linux and Windows): AVX512_BF16 (Intel since
/// Cooper Lake, AMD since Zen 4) and AMX-BF16 (Intel since Sapphire Rapids), which oneDNN inside libtorch uses for bf16
/// products. Other processors (arm64 included) report none.
/// </summary>
public static class CpuFeatures
{
    private static readonly Lazy<string?> Detected = new(Detect);

    /// <summary>"AVX512_BF16", "AVX512_BF16 and AMX-BF16", or null when the CPU has no bf16 instructions.</summary>
    public static string? Bf16Instructions => FakeBf16Instructions ?? (FakeNoBf16 ? null : Detected.Value);

    /// <summary>For tests: the detection's answer, either way.</summary>
    internal static string? FakeBf16Instructions { get; set; }

    /// <summary>For tests: no bf16 instructions, whatever the CPU has.</summary>
    internal static bool FakeNoBf16 { get; set; }

    private static string? Detect()
    {
        if (!X86Base.IsSupported || X86Base.CpuId(0, 0).Eax < 7) return null;
        var leaf7 = X86Base.CpuId(7, 0);
        var avx512Bf16 = leaf7.Eax >= 1 && (X86Base.CpuId(7, 1).Eax & (1 << 5)) != 0;
        var amxBf16 = (leaf7.Edx & (1 << 22)) != 0;
        // Avx512F.IsSupported also says the operating system saves the AVX-512 registers.
        if (!avx512Bf16 || !Avx512F.IsSupported) return null;
        return amxBf16 ? "AVX512_BF16 and AMX-BF16" : "AVX512_BF16";
    }
}
