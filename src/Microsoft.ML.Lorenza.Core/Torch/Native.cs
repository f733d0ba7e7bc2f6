using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Microsoft.ML.Lorenza.Torch;

/// <summary>
/// P/Invoke declarations for liblorenza_torch (src/Microsoft.ML.Lorenza.Native). The only place in the
/// project that calls native code; everything else goes through <see cref="Tensor"/> and <see cref="torch"/>.
/// </summary>
internal static unsafe partial class Native
{
    internal const string Library = "lorenza_torch";

    /// <summary>Mirrors lt_kind in lorenza_torch.h.</summary>
    internal enum ArgKind : int
    {
        None = 0, Tensor = 1, Int = 2, Double = 3, Bool = 4, IntList = 5, DoubleList = 6,
        TensorList = 7, String = 8, Generator = 9, Device = 10, BoolList = 11,
    }

    /// <summary>Mirrors lt_arg: one argument or result of a boxed operator call.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Arg
    {
        public ArgKind Kind;
        public int Reserved;
        public long I;
        public double D;
        public void* Ptr;
        public long Len;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct Meta
    {
        public int DType, NDim, DeviceType, DeviceIndex, RequiresGrad, IsLeaf, Defined, Reserved;
        public long Numel;
    }

    static Native()
    {
        NativeLibrary.SetDllImportResolver(typeof(Native).Assembly, Resolve);
        ProcessTuning.Apply(); // before libtorch loads: libgomp reads OMP_WAIT_POLICY when it loads
        Check(lt_set_num_threads(TorchRuntime.DefaultThreadCount()));
    }

    /// <summary>Forces the static constructor (and so the resolver and thread set-up) to run.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void EnsureLoaded() => _ = lt_get_num_threads();

    // Looks for the shim next to the assembly, then in LORENZA_NATIVE_DIR, then on the loader's path,
    // and fails with a message that says how to build it.
    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Library) return IntPtr.Zero;
        var fileName = OperatingSystem.IsWindows() ? "lorenza_torch.dll" : "liblorenza_torch.so";
        var candidates = new List<string> { Path.Combine(AppContext.BaseDirectory, fileName) };
        var fromEnv = Environment.GetEnvironmentVariable("LORENZA_NATIVE_DIR");
        if (!string.IsNullOrEmpty(fromEnv)) candidates.Insert(0, Path.Combine(fromEnv, fileName));
        var errors = new List<string>();
        foreach (var candidate in candidates)
        {
            if (!File.Exists(candidate)) continue;
            try { return NativeLibrary.Load(candidate); }
            catch (DllNotFoundException e) { errors.Add($"{candidate}: {e.Message}"); }
        }
        if (NativeLibrary.TryLoad(fileName, assembly, path, out var handle)) return handle;
        throw new DllNotFoundException(
            $"Cannot load the native binding {fileName}. Looked in: {string.Join(", ", candidates)}. " +
            (errors.Count > 0 ? $"Load errors: {string.Join("; ", errors)}. " : "") +
            "Build it with ./build.sh (needs libtorch: Debian's libtorch-dev, LIBTORCH_DIR, or an installed PyTorch), " +
            "or set LORENZA_NATIVE_DIR to the folder that holds it.");
    }

    /// <summary>Throws <see cref="TorchException"/> carrying libtorch's message when a call failed.</summary>
    internal static void Check(int status)
    {
        if (status != 0) throw new TorchException(LastError());
    }

    internal static string LastError() => Marshal.PtrToStringUTF8(lt_last_error()) ?? "unknown native error";

    [LibraryImport(Library)] internal static partial IntPtr lt_last_error();

    [LibraryImport(Library)] internal static partial IntPtr lt_torch_version();
    [LibraryImport(Library)] internal static partial int lt_parallel_info(byte* buffer, long capacity, out long written);
    [LibraryImport(Library)] internal static partial int lt_set_num_threads(int threads);
    [LibraryImport(Library)] internal static partial int lt_get_num_threads();
    [LibraryImport(Library)] internal static partial int lt_blas_num_threads();
    [LibraryImport(Library)] internal static partial IntPtr lt_blas_config();
    [LibraryImport(Library)] internal static partial int lt_cuda_is_available();
    [LibraryImport(Library)] internal static partial int lt_cuda_device_count();
    [LibraryImport(Library)] internal static partial int lt_cuda_synchronize(int deviceIndex);
    [LibraryImport(Library)] internal static partial int lt_cuda_memory_stats(int deviceIndex, out long allocated, out long peakAllocated, out long reserved);
    [LibraryImport(Library)] internal static partial int lt_cuda_reset_peak(int deviceIndex);
    [LibraryImport(Library)] internal static partial int lt_cuda_autocast(int enabled, int dtype, out int wasEnabled);

    [LibraryImport(Library)] internal static partial void lt_tensor_free(IntPtr tensor);
    [LibraryImport(Library)] internal static partial int lt_tensor_from_data(void* data, long nbytes, long* shape, int ndim, int dtype, out IntPtr tensor);
    [LibraryImport(Library)] internal static partial int lt_tensor_copy_to(IntPtr tensor, void* destination, long nbytes);
    [LibraryImport(Library)] internal static partial int lt_tensor_copy_from(IntPtr tensor, void* source, long nbytes);
    [LibraryImport(Library)] internal static partial int lt_tensor_meta(IntPtr tensor, out Meta meta, long* shape, int shapeCapacity);
    [LibraryImport(Library)] internal static partial int lt_tensor_alias(IntPtr tensor, out IntPtr alias);
    [LibraryImport(Library)] internal static partial void* lt_tensor_data_ptr(IntPtr tensor);
    [LibraryImport(Library)] internal static partial int lt_tensor_set_data(IntPtr tensor, IntPtr data);

    [LibraryImport(Library)] internal static partial int lt_tensor_set_requires_grad(IntPtr tensor, int requiresGrad);
    [LibraryImport(Library)] internal static partial int lt_tensor_grad(IntPtr tensor, out IntPtr grad);
    [LibraryImport(Library)] internal static partial int lt_tensor_set_grad(IntPtr tensor, IntPtr grad);
    [LibraryImport(Library)] internal static partial int lt_tensor_backward(IntPtr tensor, IntPtr grad, int retainGraph);
    [LibraryImport(Library)] internal static partial int lt_grad_enabled();
    [LibraryImport(Library)] internal static partial void lt_set_grad_enabled(int enabled);

    [LibraryImport(Library)] internal static partial int lt_manual_seed(ulong seed);
    [LibraryImport(Library)] internal static partial int lt_generator_new_cpu(ulong seed, out IntPtr generator);
    [LibraryImport(Library)] internal static partial int lt_generator_default(int deviceType, int deviceIndex, out IntPtr generator);
    [LibraryImport(Library)] internal static partial void lt_generator_free(IntPtr generator);
    [LibraryImport(Library)] internal static partial int lt_generator_set_seed(IntPtr generator, ulong seed);
    [LibraryImport(Library)] internal static partial int lt_generator_get_state(IntPtr generator, out IntPtr state);
    [LibraryImport(Library)] internal static partial int lt_generator_set_state(IntPtr generator, IntPtr state);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int lt_op_find(string name, string overload, out IntPtr op);
    [LibraryImport(Library)] internal static partial void lt_op_free(IntPtr op);
    [LibraryImport(Library)] internal static partial int lt_op_schema(IntPtr op, byte* buffer, long capacity, out long written);
    [LibraryImport(Library)] internal static partial int lt_op_call(IntPtr op, Arg* args, int nargs, Arg* outs, int maxOuts, out int nouts);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int lt_pickle_load_state_dict(string path, out IntPtr dict, out long count);
    [LibraryImport(Library)] internal static partial int lt_dict_entry(IntPtr dict, long index, out IntPtr name, out IntPtr tensor);
    [LibraryImport(Library)] internal static partial void lt_dict_free(IntPtr dict);

    /// <summary>Reads a string the native side writes into a caller buffer (two calls: size, then text).</summary>
    internal static string ReadBufferString(Func<IntPtr, long, (int status, long written)> call)
    {
        var (status, written) = call(IntPtr.Zero, 0);
        Check(status);
        var buffer = new byte[written + 1];
        fixed (byte* p = buffer)
        {
            (status, _) = call((IntPtr)p, buffer.Length);
            Check(status);
        }
        return System.Text.Encoding.UTF8.GetString(buffer, 0, (int)written);
    }
}
