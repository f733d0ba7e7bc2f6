using System.CommandLine;
using Microsoft.ML.Lorenza.Torch;

namespace Microsoft.ML.Lorenza.Cli.Commands;

/// <summary>`lorenza info`: what the native runtime is and can use (libtorch, threads, BLAS, devices).</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var command = new Command("info", "Print the libtorch version, thread pools, BLAS and devices.");
        command.SetAction(_ =>
        {
            Console.WriteLine($"lorenza          {typeof(InfoCommand).Assembly.GetName().Version}");
            Console.WriteLine($".NET             {Environment.Version}");
            Console.WriteLine($"libtorch         {TorchRuntime.Version}");
            Console.WriteLine($"intra-op threads {TorchRuntime.NumThreads} (cores: {Environment.ProcessorCount}; set OMP_NUM_THREADS to change)");
            var blasThreads = TorchRuntime.BlasThreads;
            Console.WriteLine(blasThreads < 0
                ? "BLAS             not OpenBLAS (matmul may be ~20x slower: apt-get install libopenblas0-pthread)"
                : $"BLAS             OpenBLAS, {blasThreads} threads ({TorchRuntime.BlasConfig.Trim()})");
            Console.WriteLine($"process tuning   {TorchRuntime.ProcessTuningSummary}");
            Console.WriteLine($"devices          cpu{(TorchRuntime.CudaAvailable ? $", cuda x{TorchRuntime.CudaDeviceCount}" : " (cuda: not available in this libtorch build or no GPU visible)")}");
            return 0;
        });
        return command;
    }
}
