using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Microsoft.ML.Lorenza.Torch;

/// <summary>
/// One argument of an ATen operator call. Converts implicitly from tensors, numbers, shapes, dtypes,
/// devices, generators and strings, so a call reads like the schema: <c>op.Call(x, dim, keepdim)</c>.
/// </summary>
public readonly struct Arg
{
    internal readonly Native.ArgKind Kind;
    internal readonly long I;
    internal readonly double D;
    internal readonly object? Ref;

    private Arg(Native.ArgKind kind, long i = 0, double d = 0, object? reference = null)
    {
        Kind = kind;
        I = i;
        D = d;
        Ref = reference;
    }

    /// <summary>An omitted optional argument (None in the schema).</summary>
    public static readonly Arg None = default;

    public static implicit operator Arg(Tensor? t) => t is null ? None : new(Native.ArgKind.Tensor, reference: t);
    public static implicit operator Arg(long v) => new(Native.ArgKind.Int, i: v);
    public static implicit operator Arg(int v) => new(Native.ArgKind.Int, i: v);
    public static implicit operator Arg(double v) => new(Native.ArgKind.Double, d: v);
    public static implicit operator Arg(bool v) => new(Native.ArgKind.Bool, i: v ? 1 : 0);
    public static implicit operator Arg(long[]? v) => v is null ? None : new(Native.ArgKind.IntList, reference: v);
    public static implicit operator Arg(double[]? v) => v is null ? None : new(Native.ArgKind.DoubleList, reference: v);
    public static implicit operator Arg(bool[]? v) => v is null ? None : new(Native.ArgKind.BoolList, reference: v);
    public static implicit operator Arg(Tensor?[]? v) => v is null ? None : new(Native.ArgKind.TensorList, reference: v);
    public static implicit operator Arg(string? v) => v is null ? None : new(Native.ArgKind.String, reference: v);
    public static implicit operator Arg(Generator? g) => g is null ? None : new(Native.ArgKind.Generator, reference: g);
    public static implicit operator Arg(ScalarType t) => new(Native.ArgKind.Int, i: (int)t);
    public static implicit operator Arg(ScalarType? t) => t is null ? None : new(Native.ArgKind.Int, i: (int)t.Value);
    public static implicit operator Arg(Device d) => new(Native.ArgKind.Device, i: (int)d.Type, d: d.Index);
    public static implicit operator Arg(Device? d) => d is null ? None : (Arg)d.Value;
}

/// <summary>
/// An ATen operator found by its schema name ("aten::add", overload "Tensor") once, then called boxed
/// through libtorch's dispatcher (so autograd, CPU and CUDA kernels all apply). Trailing arguments
/// left out take the schema's defaults. Any ATen operator is reachable this way:
/// <c>new Op("aten::erf").Call(x)</c>.
/// </summary>
[SkipLocalsInit] // the stackalloc'd argument and result buffers are filled before they are read
public sealed unsafe class Op
{
    private const int MaxResults = 64;
    private readonly Lazy<IntPtr> handle;

    public Op(string name, string overload = "")
    {
        Name = name;
        Overload = overload;
        handle = new Lazy<IntPtr>(() =>
        {
            Native.EnsureLoaded();
            if (Native.lt_op_find(name, overload, out var h) != 0)
                throw new TorchException($"Operator {FullName} not found in libtorch {TorchRuntime.Version}: {Native.LastError()}");
            return h;
        });
    }

    public string Name { get; }
    public string Overload { get; }
    public string FullName => Overload.Length == 0 ? Name : $"{Name}.{Overload}";

    /// <summary>Whether this libtorch has the operator (some exist only in newer versions).</summary>
    public bool Exists
    {
        get
        {
            try { _ = handle.Value; return true; }
            catch (TorchException) { return false; }
        }
    }

    /// <summary>The operator's schema as libtorch prints it.</summary>
    public string Schema => Native.ReadBufferString((buffer, capacity) =>
    {
        var status = Native.lt_op_schema(handle.Value, (byte*)buffer, capacity, out var written);
        return (status, written);
    });

    /// <summary>Calls the operator and returns its first result as a tensor.</summary>
    public Tensor Call(params ReadOnlySpan<Arg> args)
    {
        Native.Arg* outs = stackalloc Native.Arg[MaxResults];
        var n = Invoke(args, outs, MaxResults);
        if (n == 0 || outs[0].Kind != Native.ArgKind.Tensor)
        {
            FreeResults(outs, n);
            throw new TorchException($"{FullName} returned no tensor.");
        }
        for (var k = 1; k < n; k++) FreeResult(outs[k]);
        return new Tensor((IntPtr)outs[0].Ptr);
    }

    /// <summary>Calls the operator and returns every tensor result (tuples and lists flattened).</summary>
    public Tensor[] CallMany(params ReadOnlySpan<Arg> args)
    {
        Native.Arg* outs = stackalloc Native.Arg[MaxResults];
        var n = Invoke(args, outs, MaxResults);
        var results = new Tensor[n];
        for (var k = 0; k < n; k++)
        {
            if (outs[k].Kind != Native.ArgKind.Tensor)
            {
                FreeResults(outs + k, n - k);
                throw new TorchException($"{FullName} result {k} is not a tensor.");
            }
            results[k] = new Tensor((IntPtr)outs[k].Ptr);
        }
        return results;
    }

    /// <summary>Calls an in-place operator, dropping its result (which aliases the input).</summary>
    public void CallInPlace(params ReadOnlySpan<Arg> args) => Invoke(args, null, 0);

    /// <summary>Calls an operator that returns a number (int, float or bool).</summary>
    public double CallScalar(params ReadOnlySpan<Arg> args)
    {
        Native.Arg* outs = stackalloc Native.Arg[MaxResults];
        var n = Invoke(args, outs, MaxResults);
        var first = n > 0 ? outs[0] : default;
        FreeResults(outs, n);
        return first.Kind switch
        {
            Native.ArgKind.Double => first.D,
            Native.ArgKind.Int or Native.ArgKind.Bool => first.I,
            _ => throw new TorchException($"{FullName} returned no number."),
        };
    }

    private int Invoke(ReadOnlySpan<Arg> args, Native.Arg* outs, int maxOuts)
    {
        var op = handle.Value;
        Native.Arg* native = stackalloc Native.Arg[args.Length];
        var pins = new Pins();
        try
        {
            for (var k = 0; k < args.Length; k++) native[k] = ToNative(args[k], ref pins);
            var status = Native.lt_op_call(op, native, args.Length, outs, maxOuts, out var n);
            if (status != 0) throw new TorchException($"{FullName}: {Native.LastError()}");
            return n;
        }
        finally
        {
            pins.Release();
        }
    }

    private static Native.Arg ToNative(in Arg a, ref Pins pins)
    {
        var n = new Native.Arg { Kind = a.Kind, I = a.I, D = a.D };
        switch (a.Kind)
        {
            case Native.ArgKind.Tensor:
                n.Ptr = (void*)Pins.Hold((Tensor)a.Ref!);
                break;
            case Native.ArgKind.Device:
                n.Len = (long)a.D;
                break;
            case Native.ArgKind.IntList:
                var ints = (long[])a.Ref!;
                n.Ptr = pins.Pin(ints);
                n.Len = ints.Length;
                break;
            case Native.ArgKind.DoubleList:
                var doubles = (double[])a.Ref!;
                n.Ptr = pins.Pin(doubles);
                n.Len = doubles.Length;
                break;
            case Native.ArgKind.BoolList:
                var bools = (bool[])a.Ref!;
                n.Ptr = pins.Pin(bools);
                n.Len = bools.Length;
                break;
            case Native.ArgKind.TensorList:
                var tensors = (Tensor?[])a.Ref!;
                var handles = new IntPtr[tensors.Length];
                for (var k = 0; k < tensors.Length; k++) handles[k] = tensors[k] is { } t ? Pins.Hold(t) : IntPtr.Zero;
                n.Ptr = pins.Pin(handles);
                n.Len = tensors.Length;
                break;
            case Native.ArgKind.String:
                n.Ptr = pins.Pin(Encoding.UTF8.GetBytes((string)a.Ref! + "\0"));
                break;
            case Native.ArgKind.Generator:
                n.Ptr = (void*)((Generator)a.Ref!).Handle;
                break;
        }
        return n;
    }

    private static void FreeResults(Native.Arg* outs, int n)
    {
        for (var k = 0; k < n; k++) FreeResult(outs[k]);
    }

    private static void FreeResult(in Native.Arg a)
    {
        if (a.Kind == Native.ArgKind.Tensor && a.Ptr != null) Native.lt_tensor_free((IntPtr)a.Ptr);
    }

    /// <summary>Arrays pinned for the duration of one call.</summary>
    private struct Pins
    {
        private List<GCHandle>? handles;

        // Tensor handles are read raw: the tensors are referenced by the caller's argument span for the
        // whole call, so the GC cannot finalize them meanwhile.
        public static IntPtr Hold(Tensor tensor) => tensor.Handle;

        public void* Pin(Array array)
        {
            var h = GCHandle.Alloc(array, GCHandleType.Pinned);
            (handles ??= new List<GCHandle>(2)).Add(h);
            return (void*)h.AddrOfPinnedObject();
        }

        public readonly void Release()
        {
            if (handles is not null) foreach (var h in handles) h.Free();
        }
    }
}
