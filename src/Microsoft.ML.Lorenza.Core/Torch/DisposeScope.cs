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

    // Tensors in creation order; a removed tensor leaves a null slot (O(1) removal), compacted
    // when more than half the slots are empty, so loops that dispose as they go stay cheap.
    private readonly List<Tensor?> tensors = new();
    private int emptySlots;
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
    public int Count => tensors.Count - emptySlots;

    internal void Add(Tensor tensor)
    {
        tensor.OwningScope = this;
        tensor.ScopeSlot = tensors.Count;
        tensors.Add(tensor);
    }

    internal void Remove(Tensor tensor)
    {
        tensors[tensor.ScopeSlot] = null;
        tensor.OwningScope = null;
        if (++emptySlots > 32 && emptySlots > tensors.Count / 2) Compact();
    }

    private void Compact()
    {
        var kept = 0;
        for (var k = 0; k < tensors.Count; k++)
        {
            if (tensors[k] is not { } t) continue;
            t.ScopeSlot = kept;
            tensors[kept++] = t;
        }
        tensors.RemoveRange(kept, tensors.Count - kept);
        emptySlots = 0;
    }

    /// <summary>Frees every tensor still owned by this scope and makes the outer scope current again.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var tensor in tensors)
        {
            if (tensor is null) continue;
            tensor.OwningScope = null;
            tensor.Dispose();
        }
        tensors.Clear();
        emptySlots = 0;
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
