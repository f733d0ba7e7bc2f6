namespace Microsoft.ML.Lorenza.Torch;

/// <summary>
/// Tensor factories and functions, named as in PyTorch/TorchSharp (<c>torch.randn</c>,
/// <c>torch.nn.functional.gelu</c>, <c>torch.linalg.qr</c>, <c>torch.no_grad()</c>).
/// </summary>
#pragma warning disable CS8981 // lower-case type names on purpose: the API mirrors PyTorch's
public static unsafe class torch
{
    // ---- scopes, autograd modes, seeds ----

    /// <summary>Opens a scope that frees every tensor created inside it when disposed.</summary>
    public static DisposeScope NewDisposeScope()
    {
        Native.EnsureLoaded();
        return new DisposeScope();
    }

    /// <summary>Disables autograd on this thread until disposed (like <c>with torch.no_grad():</c>).</summary>
    public static IDisposable no_grad() => new GradModeScope(false);

    /// <summary>Enables autograd on this thread until disposed.</summary>
    public static IDisposable enable_grad() => new GradModeScope(true);

    public static bool is_grad_enabled()
    {
        Native.EnsureLoaded();
        return Native.lt_grad_enabled() != 0;
    }

    /// <summary>Seeds the default generators of every device (dropout, parameter initialization).</summary>
    public static void manual_seed(ulong seed)
    {
        Native.EnsureLoaded();
        Native.Check(Native.lt_manual_seed(seed));
    }

    private sealed class GradModeScope : IDisposable
    {
        private readonly bool previous;
        private bool disposed;

        public GradModeScope(bool enabled)
        {
            Native.EnsureLoaded();
            previous = Native.lt_grad_enabled() != 0;
            Native.lt_set_grad_enabled(enabled ? 1 : 0);
        }

        public void Dispose()
        {
            if (disposed) return;
            disposed = true;
            Native.lt_set_grad_enabled(previous ? 1 : 0);
        }
    }

    // ---- creation ----

    /// <summary>A CPU tensor holding a copy of <paramref name="data"/> with the given shape (default: 1-D).</summary>
    public static Tensor tensor<T>(ReadOnlySpan<T> data, long[]? shape = null, Device? device = null) where T : unmanaged
    {
        Native.EnsureLoaded();
        shape ??= [data.Length];
        long count = 1;
        foreach (var d in shape) count *= d;
        if (count != data.Length)
            throw new ArgumentException($"{data.Length} values cannot fill shape {Tensor.ShapeString(shape)} ({count} elements).", nameof(shape));
        IntPtr handle;
        fixed (T* p = data)
        fixed (long* s = shape)
            Native.Check(Native.lt_tensor_from_data(p, (long)data.Length * sizeof(T), s, shape.Length, (int)ScalarTypeExtensions.Of<T>(), out handle));
        var cpuTensor = new Tensor(handle);
        if (device is not { IsCuda: true } target) return cpuTensor;
        using (cpuTensor) return cpuTensor.to(target);
    }

    public static Tensor tensor<T>(T[] data, long[]? shape = null, Device? device = null) where T : unmanaged =>
        tensor((ReadOnlySpan<T>)data, shape, device);

    /// <summary>A one-element tensor.</summary>
    public static Tensor scalar_tensor(double value, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        full([], value, dtype, device);

    public static Tensor empty(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        Aten.Empty.Call(shape, dtype, Arg.None, device);
    public static Tensor zeros(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        Aten.Zeros.Call(shape, dtype, Arg.None, device);
    public static Tensor ones(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        Aten.Ones.Call(shape, dtype, Arg.None, device);
    public static Tensor full(long[] shape, double value, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        Aten.Full.Call(shape, value, dtype, Arg.None, device);
    public static Tensor arange(long start, long end, long step = 1, ScalarType dtype = ScalarType.Int64, Device? device = null) =>
        Aten.ArangeStartStep.Call(start, end, step, dtype, Arg.None, device);
    public static Tensor eye(long n, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        Aten.Eye.Call(n, dtype, Arg.None, device);
    public static Tensor zeros_like(Tensor t) => Aten.ZerosLike.Call(t);
    public static Tensor ones_like(Tensor t) => Aten.OnesLike.Call(t);
    public static Tensor empty_like(Tensor t) => Aten.EmptyLike.Call(t);

    /// <summary>Standard normal samples; with a <paramref name="generator"/> the draw is reproducible on its own.</summary>
    public static Tensor randn(long[] shape, Generator? generator = null, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        Aten.RandnGenerator.Call(shape, generator, dtype, Arg.None, device);
    /// <summary>Uniform samples in [0, 1).</summary>
    public static Tensor rand(long[] shape, Generator? generator = null, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        Aten.RandGenerator.Call(shape, generator, dtype, Arg.None, device);
    /// <summary>A random permutation of 0..n-1 (int64).</summary>
    public static Tensor randperm(long n, Generator? generator = null, Device? device = null) =>
        Aten.RandpermGenerator.Call(n, generator, ScalarType.Int64, Arg.None, device);

    // ---- combining ----
    public static Tensor cat(Tensor[] tensors, long dim = 0) => Aten.Cat.Call(tensors, dim);
    public static Tensor stack(Tensor[] tensors, long dim = 0) => Aten.Stack.Call(tensors, dim);
    public static Tensor where(Tensor condition, Tensor x, Tensor y) => Aten.Where.Call(condition, x, y);
    public static Tensor matmul(Tensor a, Tensor b) => Aten.Matmul.Call(a, b);
    public static Tensor mm(Tensor a, Tensor b) => Aten.Mm.Call(a, b);
    public static Tensor bmm(Tensor a, Tensor b) => Aten.Bmm.Call(a, b);
    public static Tensor outer(Tensor a, Tensor b) => Aten.Outer.Call(a, b);
    public static Tensor diag(Tensor t, long diagonal = 0) => Aten.Diag.Call(t, diagonal);

    /// <summary>
    /// Reads the tensors of a file written by PyTorch's torch.save of a state dict (e.g. Hugging Face's
    /// pytorch_model.bin), through libtorch's own unpickler.
    /// </summary>
    public static Dictionary<string, Tensor> load_state_dict_file(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No such file: {path}", path);
        Native.EnsureLoaded();
        if (Native.lt_pickle_load_state_dict(path, out var dict, out var count) != 0)
            throw new InvalidDataException($"{path} is not a readable torch.save state dict: {Native.LastError()}");
        try
        {
            var result = new Dictionary<string, Tensor>((int)count);
            for (long k = 0; k < count; k++)
            {
                Native.Check(Native.lt_dict_entry(dict, k, out var name, out var tensor));
                result[System.Runtime.InteropServices.Marshal.PtrToStringUTF8(name)!] = new Tensor(tensor);
            }
            return result;
        }
        finally
        {
            Native.lt_dict_free(dict);
        }
    }

    /// <summary>Calls any ATen operator by schema name, e.g. <c>torch.ops("aten::erf").Call(x)</c>.</summary>
    public static Op ops(string name, string overload = "") => new(name, overload);

    public static class linalg
    {
        /// <summary>Reduced QR decomposition: A = Q R with orthonormal columns in Q.</summary>
        public static (Tensor Q, Tensor R) qr(Tensor a, string mode = "reduced")
        {
            var r = Aten.LinalgQr.CallMany(a, mode);
            return (r[0], r[1]);
        }

        /// <summary>Singular value decomposition A = U diag(S) Vh.</summary>
        public static (Tensor U, Tensor S, Tensor Vh) svd(Tensor a, bool full_matrices = true)
        {
            var r = Aten.LinalgSvd.CallMany(a, full_matrices);
            return (r[0], r[1], r[2]);
        }

        public static Tensor vector_norm(Tensor a, double ord = 2, long[]? dim = null, bool keepdim = false) =>
            Aten.VectorNorm.Call(a, ord, dim, keepdim);
    }

    public static class cuda
    {
        public static bool is_available() => TorchRuntime.CudaAvailable;
        public static int device_count() => TorchRuntime.CudaDeviceCount;
        public static void synchronize(int device = -1) => Native.Check(Native.lt_cuda_synchronize(device));

        /// <summary>Bytes the CUDA caching allocator holds now and at its peak (like torch.cuda.max_memory_allocated).</summary>
        public static (long allocated, long peak, long reserved) memory_stats(int device = 0)
        {
            Native.EnsureLoaded();
            Native.Check(Native.lt_cuda_memory_stats(device, out var a, out var p, out var r));
            return (a, p, r);
        }

        /// <summary>
        /// Mixed precision on CUDA until disposed (like <c>with torch.autocast("cuda", dtype)</c>): matmuls and
        /// other eligible ops run in <paramref name="dtype"/> while weights stay float32.
        /// </summary>
        public static IDisposable autocast(ScalarType dtype = ScalarType.BFloat16)
        {
            if (dtype is not (ScalarType.BFloat16 or ScalarType.Float16))
                throw new ArgumentException($"Autocast runs in bfloat16 or float16, not {dtype}.", nameof(dtype));
            Native.EnsureLoaded();
            Native.Check(Native.lt_cuda_autocast(1, (int)dtype, out var was));
            return new AutocastScope(was != 0);
        }

        private sealed class AutocastScope(bool restoreEnabled) : IDisposable
        {
            private bool disposed;

            public void Dispose()
            {
                if (disposed) return;
                disposed = true;
                Native.Check(Native.lt_cuda_autocast(restoreEnabled ? 1 : 0, (int)ScalarType.BFloat16, out _));
            }
        }

        public static void reset_peak_memory_stats(int device = 0)
        {
            Native.EnsureLoaded();
            Native.Check(Native.lt_cuda_reset_peak(device));
        }
    }

    public static class nn
    {
        public static class functional
        {
            public static Tensor linear(Tensor input, Tensor weight, Tensor? bias = null) => Aten.Linear.Call(input, weight, bias);
            public static Tensor softmax(Tensor input, long dim) => Aten.Softmax.Call(input, dim);
            public static Tensor log_softmax(Tensor input, long dim) => Aten.LogSoftmax.Call(input, dim);
            public static Tensor layer_norm(Tensor input, long[] normalized_shape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5) =>
                Aten.LayerNorm.Call(input, normalized_shape, weight, bias, eps);
            /// <summary>GELU; "none" is the exact erf form (RoBERTa's), "tanh" the approximation.</summary>
            public static Tensor gelu(Tensor input, string approximate = "none") => Aten.Gelu.Call(input, approximate);
            public static Tensor tanh(Tensor input) => Aten.Tanh.Call(input);
            public static Tensor relu(Tensor input) => Aten.Relu.Call(input);
            public static Tensor sigmoid(Tensor input) => Aten.Sigmoid.Call(input);
            /// <summary>Dropout with the device's default generator (seed it with <see cref="manual_seed"/>).</summary>
            public static Tensor dropout(Tensor input, double p = 0.5, bool training = true) =>
                p == 0 || !training ? input.alias() : Aten.Dropout.Call(input, p, training);
            public static Tensor embedding(Tensor weight, Tensor indices, long padding_idx = -1) => Aten.Embedding.Call(weight, indices, padding_idx);
            public static Tensor cross_entropy(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean, long ignore_index = -100, double label_smoothing = 0) =>
                Aten.CrossEntropy.Call(input, target, weight, (int)reduction, ignore_index, label_smoothing);
            public static Tensor nll_loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) =>
                Aten.NllLoss.Call(input, target, Arg.None, (int)reduction);
        }
    }
}
#pragma warning restore CS8981

/// <summary>How a loss reduces over the batch (values are ATen's).</summary>
public enum Reduction
{
    None = 0,
    Mean = 1,
    Sum = 2,
}
