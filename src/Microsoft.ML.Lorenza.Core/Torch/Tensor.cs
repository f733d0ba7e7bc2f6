namespace Microsoft.ML.Lorenza.Torch;

/// <summary>
/// A libtorch tensor, shaped like TorchSharp's: dispose it (or let a <see cref="DisposeScope"/> do so)
/// to free native memory deterministically. Operators live in Tensor.Ops.cs and <see cref="torch"/>.
/// </summary>
public sealed partial class Tensor : IDisposable
{
    private IntPtr handle;
    private long[]? cachedShape;
    private ScalarType? cachedDType;

    /// <summary>Takes ownership of a native handle and registers with the current dispose scope.</summary>
    internal Tensor(IntPtr handle)
    {
        if (handle == IntPtr.Zero) throw new ArgumentException("Null tensor handle.", nameof(handle));
        this.handle = handle;
        DisposeScope.Current?.Add(this);
    }

    // A safety net only: tensors are meant to be disposed (directly or by a scope), not finalized.
    ~Tensor() => Release();

    internal DisposeScope? OwningScope { get; set; }
    internal int ScopeSlot { get; set; }

    internal IntPtr Handle
    {
        get
        {
            var h = handle;
            if (h == IntPtr.Zero) throw new ObjectDisposedException(nameof(Tensor), "The tensor was disposed (directly or by its DisposeScope); keep it with MoveToOuterDisposeScope() or DetachFromDisposeScope().");
            return h;
        }
    }

    public bool IsDisposed => handle == IntPtr.Zero;

    public void Dispose()
    {
        OwningScope?.Remove(this);
        Release();
        GC.SuppressFinalize(this);
    }

    private void Release()
    {
        var h = Interlocked.Exchange(ref handle, IntPtr.Zero);
        if (h != IntPtr.Zero) Native.lt_tensor_free(h);
    }

    /// <summary>Keeps this tensor alive when the current scope closes: it moves to the enclosing scope (or none).</summary>
    public Tensor MoveToOuterDisposeScope()
    {
        var scope = OwningScope;
        if (scope is null) return this;
        scope.Remove(this);
        scope.Outer?.Add(this);
        return this;
    }

    /// <summary>Takes this tensor out of every scope: the caller now owns it and must dispose it.</summary>
    public Tensor DetachFromDisposeScope()
    {
        OwningScope?.Remove(this);
        return this;
    }

    // ---- metadata ----

    private unsafe Native.Meta ReadMeta(long[]? shapeOut)
    {
        long* dims = stackalloc long[64];
        Native.Check(Native.lt_tensor_meta(Handle, out var meta, dims, 64));
        if (shapeOut != null)
            for (var k = 0; k < meta.NDim; k++) shapeOut[k] = dims[k];
        return meta;
    }

    /// <summary>The sizes of each dimension.</summary>
    public long[] shape
    {
        get
        {
            if (cachedShape is null)
            {
                var buffer = new long[64];
                var meta = ReadMeta(buffer);
                cachedShape = buffer[..meta.NDim];
                cachedDType = (ScalarType)meta.DType;
            }
            return cachedShape;
        }
    }

    public long size(int dim)
    {
        var s = shape;
        var d = dim < 0 ? dim + s.Length : dim;
        if (d < 0 || d >= s.Length)
            throw new ArgumentOutOfRangeException(nameof(dim), dim, $"Dimension out of range for a tensor of shape {ShapeString(s)}.");
        return s[d];
    }

    public int dim() => shape.Length;

    public long numel()
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        return n;
    }

    public ScalarType dtype => cachedDType ??= (ScalarType)ReadMeta(null).DType;

    public Device device
    {
        get
        {
            var meta = ReadMeta(null);
            return new Device((DeviceType)meta.DeviceType, meta.DeviceIndex);
        }
    }

    public bool is_leaf => ReadMeta(null).IsLeaf != 0;

    // ---- autograd ----

    public bool requires_grad
    {
        get => ReadMeta(null).RequiresGrad != 0;
        set => Native.Check(Native.lt_tensor_set_requires_grad(Handle, value ? 1 : 0));
    }

    public Tensor requires_grad_(bool value = true)
    {
        requires_grad = value;
        return this;
    }

    /// <summary>The accumulated gradient (a new handle to it), or null when none was computed.</summary>
    public Tensor? grad
    {
        get
        {
            Native.Check(Native.lt_tensor_grad(Handle, out var g));
            return g == IntPtr.Zero ? null : new Tensor(g);
        }
        set => Native.Check(Native.lt_tensor_set_grad(Handle, value?.Handle ?? IntPtr.Zero));
    }

    public void backward(Tensor? gradient = null, bool retain_graph = false) =>
        Native.Check(Native.lt_tensor_backward(Handle, gradient?.Handle ?? IntPtr.Zero, retain_graph ? 1 : 0));

    // ---- data in and out ----

    /// <summary>A second handle to the same tensor (same storage, same autograd identity).</summary>
    public Tensor alias()
    {
        Native.Check(Native.lt_tensor_alias(Handle, out var h));
        return new Tensor(h);
    }

    /// <summary>
    /// Replaces this tensor's data (shape, dtype, device may change) while keeping its identity, the way
    /// PyTorch's <c>param.data = x</c> moves a parameter to another device without breaking references.
    /// </summary>
    public void set_data(Tensor data)
    {
        Native.Check(Native.lt_tensor_set_data(Handle, data.Handle));
        cachedShape = null;
        cachedDType = null;
    }

    /// <summary>Copies the elements, in row-major order, into a new array (from any device).</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        CheckElementType<T>();
        var result = new T[numel()];
        CopyTo<T>(result);
        return result;
    }

    /// <summary>Copies the elements, in row-major order, into <paramref name="destination"/>.</summary>
    public unsafe void CopyTo<T>(Span<T> destination) where T : unmanaged
    {
        CheckElementType<T>();
        if (destination.Length != numel())
            throw new ArgumentException($"Destination holds {destination.Length} elements; tensor {ShapeString(shape)} has {numel()}.", nameof(destination));
        fixed (T* p = destination)
            Native.Check(Native.lt_tensor_copy_to(Handle, p, (long)destination.Length * sizeof(T)));
    }

    /// <summary>Overwrites the elements from <paramref name="source"/> (row-major), keeping the storage.</summary>
    public unsafe void CopyFrom<T>(ReadOnlySpan<T> source) where T : unmanaged
    {
        CheckElementType<T>();
        if (source.Length != numel())
            throw new ArgumentException($"Source holds {source.Length} elements; tensor {ShapeString(shape)} has {numel()}.", nameof(source));
        fixed (T* p = source)
            Native.Check(Native.lt_tensor_copy_from(Handle, p, (long)source.Length * sizeof(T)));
    }

    /// <summary>
    /// The elements of a contiguous CPU tensor as a span over its own memory (no copy). Valid while the
    /// tensor is alive; writing through it bypasses autograd.
    /// </summary>
    public unsafe Span<T> data<T>() where T : unmanaged
    {
        CheckElementType<T>();
        var p = Native.lt_tensor_data_ptr(Handle);
        if (p == null)
            throw new InvalidOperationException("data<T>() needs a contiguous CPU tensor; call .cpu().contiguous() first, or use ToArray<T>().");
        return new Span<T>(p, checked((int)numel()));
    }

    /// <summary>The value of a one-element tensor.</summary>
    public T item<T>() where T : unmanaged
    {
        if (numel() != 1) throw new InvalidOperationException($"item() needs a one-element tensor, not shape {ShapeString(shape)}.");
        using var converted = dtype == ScalarTypeExtensions.Of<T>() ? null : to(ScalarTypeExtensions.Of<T>());
        Span<T> one = stackalloc T[1];
        (converted ?? this).CopyTo(one);
        return one[0];
    }

    private void CheckElementType<T>() where T : unmanaged
    {
        var wanted = ScalarTypeExtensions.Of<T>();
        if (wanted != dtype)
            throw new InvalidOperationException($"The tensor holds {dtype}, not {typeof(T).Name} ({wanted}); convert it with .to(ScalarType.{wanted}) first.");
    }

    internal static string ShapeString(long[] s) => "[" + string.Join(", ", s) + "]";

    public override string ToString() =>
        IsDisposed ? "Tensor(disposed)" : $"Tensor({ShapeString(shape)}, {dtype}, {device})";
}
