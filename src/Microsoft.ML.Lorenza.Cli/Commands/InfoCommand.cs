using System.CommandLine;
using Microsoft.ML.Lorenza.Configuration;
using Microsoft.ML.Lorenza.Runtime;

namespace Microsoft.ML.Lorenza.Cli.Commands;

/// <summary>`lorenza info`: what the runtime is and can use (TorchSharp, libtorch, threads, devices, GPU memory).</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var command = new Command("info", "Print the TorchSharp and libtorch versions, thread pool, process settings and devices.");
        command.SetAction(_ => CommandErrors.Run(() =>
        {
            Console.WriteLine($"lorenza          {typeof(InfoCommand).Assembly.GetName().Version}");
            Console.WriteLine($".NET             {Environment.Version}");
            Console.WriteLine($"TorchSharp       {TorchRuntime.TorchSharpVersion} (libtorch {TorchRuntime.LibTorchVersion})");
            Console.WriteLine($"intra-op threads {TorchRuntime.NumThreads} (cores: {Environment.ProcessorCount}; set OMP_NUM_THREADS to change)");
            Console.WriteLine($"process tuning   {TorchRuntime.ProcessTuningSummary}");
            Console.WriteLine($"devices          cpu{(TorchRuntime.CudaAvailable ? $", cuda x{TorchRuntime.CudaDeviceCount}" : " (cuda: no CUDA libtorch in this app or no GPU; add TorchSharp-cuda-linux / TorchSharp-cuda-windows)")}");
            Console.WriteLine($"precision auto   {string.Join("; ", Enumerable.Range(0, TorchRuntime.CudaDeviceCount).Select(i => $"cuda:{i} {ComputeOptions.Resolve(ComputePrecision.Auto, new TorchSharp.torch.Device(TorchSharp.DeviceType.CUDA, i))}").Prepend($"cpu {ComputeOptions.Resolve(ComputePrecision.Auto, TorchSharp.torch.CPU)}"))}");
            for (var index = 0; GpuMemory.Query(index) is { } gpu; index++)
                Console.WriteLine($"gpu {gpu.Index}            {gpu.Name}: {gpu.Used / 1048576.0:F0} of {gpu.Total / 1048576.0:F0} MiB in use");
            return 0;
        }));
        return command;
    }
}
