using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Lorenza.Runtime;

/// <summary>
/// Scalars that live as long as the process. TorchSharp 0.107 turns a number passed to a tensor method — and the
/// implicit alpha = 1 of add and sub of two tensors (a + b, a.add(b)) — into a Scalar whose finalizer frees the
/// native value and which it does not keep alive during the call, so the GC can free it while libtorch still
/// reads it (docs/engine.md, "TorchSharp notes"). Engine code passes these, or explicit Scalars it disposes after use.
/// </summary>
public static class Scalars
{
    public static readonly Scalar One = 1.ToScalar();
}
