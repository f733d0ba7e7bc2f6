namespace Microsoft.ML.Lorenza.Torch;

/// <summary>An error reported by libtorch (shape mismatch, bad dtype, out of memory, ...), carrying its text.</summary>
public sealed class TorchException : Exception
{
    public TorchException(string message) : base(message) { }
    public TorchException(string message, Exception inner) : base(message, inner) { }
}
