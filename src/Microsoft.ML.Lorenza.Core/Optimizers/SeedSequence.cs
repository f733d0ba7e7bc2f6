namespace Microsoft.ML.Lorenza.Optimizers;

/// <summary>
/// The optimizer's random numbers: a 64-bit state advanced by SplitMix64, one number per use (a step's probes, a
/// range-finder refresh), saved in checkpoints so a resumed run draws the same numbers.
/// </summary>
internal sealed class SeedSequence(ulong seed)
{
    public ulong State { get; set; } = seed;

    public ulong Next()
    {
        State += 0x9E3779B97F4A7C15UL;
        return SplitMix64(State);
    }

    /// <summary>The seed of probe <paramref name="probe"/>'s noise for matrix <paramref name="layer"/> in a step drawn <paramref name="stepSeed"/>.</summary>
    public static ulong Probe(ulong stepSeed, int probe, int layer) =>
        SplitMix64(stepSeed ^ SplitMix64((ulong)probe * 0x9E3779B97F4A7C15UL + (ulong)layer + 1));

    private static ulong SplitMix64(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
