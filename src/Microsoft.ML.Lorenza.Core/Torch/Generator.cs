namespace Microsoft.ML.Lorenza.Torch;

/// <summary>A random number generator whose state can be seeded, saved and restored (for checkpoints).</summary>
public sealed class Generator : IDisposable
{
    private IntPtr handle;

    private Generator(IntPtr handle) => this.handle = handle;

    /// <summary>A new CPU generator (the Philox/MT19937 engine libtorch uses for CPU tensors).</summary>
    public Generator(ulong seed)
    {
        Native.EnsureLoaded();
        Native.Check(Native.lt_generator_new_cpu(seed, out handle));
    }

    /// <summary>The process-wide default generator of a device (what dropout uses).</summary>
    public static Generator Default(Device device)
    {
        Native.EnsureLoaded();
        Native.Check(Native.lt_generator_default((int)device.Type, device.Index, out var h));
        return new Generator(h);
    }

    internal IntPtr Handle => handle != IntPtr.Zero ? handle : throw new ObjectDisposedException(nameof(Generator));

    public Generator manual_seed(ulong seed)
    {
        Native.Check(Native.lt_generator_set_seed(Handle, seed));
        return this;
    }

    /// <summary>The generator's full state as a uint8 CPU tensor.</summary>
    public Tensor get_state()
    {
        Native.Check(Native.lt_generator_get_state(Handle, out var state));
        return new Tensor(state);
    }

    public void set_state(Tensor state) => Native.Check(Native.lt_generator_set_state(Handle, state.Handle));

    public void Dispose()
    {
        if (handle == IntPtr.Zero) return;
        Native.lt_generator_free(handle);
        handle = IntPtr.Zero;
        GC.SuppressFinalize(this);
    }

    ~Generator()
    {
        if (handle != IntPtr.Zero) Native.lt_generator_free(handle);
    }
}
