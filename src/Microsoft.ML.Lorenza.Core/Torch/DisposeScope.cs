namespace Microsoft.ML.Lorenza.Torch;

/// <summary>
/// Collects every tensor created on this thread while it is the innermost open scope, and frees them
/// all when disposed, so a training step releases its temporaries at once instead of waiting for the GC.
/// Keep a result alive past the scope with <see cref="Tensor.MoveToOuterDisposeScope"/> or
/// <see cref="Tensor.DetachFromDisposeScope"/>. Open one with <c>using var scope = torch.NewDisposeScope();</c>.
/// </summary>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic] private static DisposeScope? current;

    private readonly HashSet<Tensor> tensors = new(ReferenceEqualityComparer.Instance);
    private bool disposed;

    internal DisposeScope()
    {
        Outer = current;
        current = this;
    }

    /// <summary>The innermost open scope on this thread, or null.</summary>
    public static DisposeScope? Current => current;

    /// <summary>The scope that was current when this one opened.</summary>
    public DisposeScope? Outer { get; }

    /// <summary>Tensors this scope will free.</summary>
    public int Count => tensors.Count;

    internal void Add(Tensor tensor)
    {
        tensors.Add(tensor);
        tensor.OwningScope = this;
    }

    internal void Remove(Tensor tensor)
    {
        tensors.Remove(tensor);
        tensor.OwningScope = null;
    }

    /// <summary>Frees every tensor still owned by this scope and makes the outer scope current again.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var tensor in tensors)
        {
            tensor.OwningScope = null;
            tensor.Dispose();
        }
        tensors.Clear();
        // Scopes nest: closing an outer scope first also closes the ones inside it on this thread.
        if (IsOpenOnThisThread()) current = Outer;
    }

    private bool IsOpenOnThisThread()
    {
        for (var s = current; s != null; s = s.Outer)
            if (ReferenceEquals(s, this)) return true;
        return false;
    }
}
