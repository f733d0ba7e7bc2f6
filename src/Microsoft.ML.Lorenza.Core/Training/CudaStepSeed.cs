using Microsoft.ML.Lorenza.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Training;

/// <summary>
/// On CUDA, dropout draws from the GPU's default generator, whose state TorchSharp 0.107 can neither read nor set (its
/// Generator API reaches the CPU's only), so a checkpoint cannot carry it. Instead every step reseeds it from the run's
/// seed and the step's number: the masks are a function of (seed, step), and a resumed run draws the same ones. On the
/// CPU nothing changes: the CPU generator's state goes into checkpoints ("rng.cpu").
/// </summary>
internal static class CudaStepSeed
{
    private const ulong DropoutStream = 0x44524F504F5554UL; // "DROPOUT": apart from the probes' seeds

    public static void Apply(Device device, ulong runSeed, int step)
    {
        if (device.type != DeviceType.CUDA) return;
        torch.cuda.manual_seed_all(unchecked((long)SeedSequence.Probe(runSeed ^ DropoutStream, 0, step)));
    }
}
