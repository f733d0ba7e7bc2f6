using Microsoft.ML.Lorenza.Tests.BadInputs;
using SharpFuzz;

namespace Microsoft.ML.Lorenza.Fuzz;

/// <summary>
/// The fuzz targets: every reader of <see cref="ReaderSeeds"/>, named by its <see cref="Reader.Target"/>. An input is written over the reader's valid file and read; the
/// contract is <see cref="ReaderContract"/>'s, so anything else escapes and AFL records a crash, and a hang its timeout.
/// </summary>
public static class FuzzTargets
{
    public static int List()
    {
        using var seeds = new ReaderSeeds();
        foreach (var reader in seeds.Readers) Console.WriteLine(reader.Target);
        return 0;
    }

    public static int WriteSeeds(string folder)
    {
        using var seeds = new ReaderSeeds();
        foreach (var reader in seeds.Readers)
        {
            var target = Directory.CreateDirectory(Path.Combine(folder, reader.Target)).FullName;
            File.Copy(Path.Combine(reader.Folder, reader.File), Path.Combine(target, "seed"), overwrite: true);
            Console.WriteLine($"{reader.Target}: {new FileInfo(Path.Combine(target, "seed")).Length} bytes");
        }
        return 0;
    }

    public static int Run(string target)
    {
        // Under afl-fuzz Microsoft.ML.Lorenza.Core.dll is instrumented, and its code may only run once SharpFuzz has mapped
        // AFL's coverage map, inside the action: the seed files are made there, once per process (the first input's run).
        ReaderSeeds? seeds = null;
        Reader? reader = null;
        Fuzzer.OutOfProcess.Run(stream =>
        {
            if (reader is null)
            {
                seeds = new ReaderSeeds();
                reader = seeds.Readers.FirstOrDefault(r => r.Target == target)
                    ?? throw new ArgumentException($"unknown target '{target}'; known: {string.Join(", ", seeds.Readers.Select(r => r.Target))}");
            }
            using (var file = File.Create(Path.Combine(reader.Folder, reader.File))) stream.CopyTo(file);
            try
            {
                reader.Read();
            }
            catch (Exception e) when (ReaderContract.Violation(reader, e) is null)
            {
            }
        });
        seeds?.Dispose();
        return 0;
    }
}
