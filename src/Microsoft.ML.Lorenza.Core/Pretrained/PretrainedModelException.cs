namespace Microsoft.ML.Lorenza.Pretrained;

/// <summary>
/// A pretrained model could not be fetched or converted. The message is one line that names the cause and the
/// fix: the NuGet source tried and what to set instead, a package whose SHA-512 differs from the pinned one
/// ("the package changed"), a resource or weight the package lacks, or the cache folder that could not be written.
/// </summary>
public sealed class PretrainedModelException : IOException
{
    public PretrainedModelException(string message, Exception? inner = null) : base(message, inner) { }
}
