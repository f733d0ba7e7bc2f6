namespace Microsoft.ML.Lorenza.Torch;

// Tensor methods, named as in PyTorch/TorchSharp. Methods ending in '_' work in place and return this.
public sealed partial class Tensor
{
    // ---- conversion and copies ----
    public Tensor to(ScalarType type) => Aten.ToDtype.Call(this, type);
    public Tensor to(Device target) => target.IsCuda && !TorchRuntime.CudaAvailable
        ? throw new InvalidOperationException($"Cannot move a tensor to {target}: CUDA is not available (libtorch {TorchRuntime.Version} was built without CUDA, or no GPU is visible). Use device 'cpu'.")
        : Aten.ToDevice.Call(this, target, dtype);
    public Tensor to(Device target, ScalarType type) => to(target).to_owned(type);
    public Tensor cpu() => to(Device.Cpu);
    public Tensor cuda(int index = -1) => to(new Device(DeviceType.Cuda, index));
    public Tensor @float() => to(ScalarType.Float32);
    public Tensor @double() => to(ScalarType.Float64);
    public Tensor @long() => to(ScalarType.Int64);
    public Tensor clone() => Aten.Clone.Call(this);
    public Tensor detach() => Aten.Detach.Call(this);
    public Tensor contiguous() => Aten.Contiguous.Call(this);

    // Converts and disposes the intermediate, for chains like to(device).to(type).
    private Tensor to_owned(ScalarType type)
    {
        if (dtype == type) return this;
        using (this) return to(type);
    }

    // ---- views and shapes ----
    public Tensor view(params long[] shape) => Aten.View.Call(this, shape);
    public Tensor reshape(params long[] shape) => Aten.Reshape.Call(this, shape);
    public Tensor transpose(long dim0, long dim1) => Aten.Transpose.Call(this, dim0, dim1);
    public Tensor t() => Aten.T.Call(this);
    public Tensor mT => transpose(-2, -1);
    public Tensor permute(params long[] dims) => Aten.Permute.Call(this, dims);
    public Tensor unsqueeze(long dim) => Aten.Unsqueeze.Call(this, dim);
    public Tensor squeeze(long dim) => Aten.SqueezeDim.Call(this, dim);
    public Tensor expand(params long[] shape) => Aten.Expand.Call(this, shape);
    public Tensor narrow(long dim, long start, long length) => Aten.Narrow.Call(this, dim, start, length);
    public Tensor select(long dim, long index) => Aten.SelectInt.Call(this, dim, index);
    public Tensor index_select(long dim, Tensor index) => Aten.IndexSelect.Call(this, dim, index);
    public Tensor gather(long dim, Tensor index) => Aten.Gather.Call(this, dim, index);
    public Tensor flatten(long start_dim = 0, long end_dim = -1) => Aten.Flatten.Call(this, start_dim, end_dim);
    public Tensor[] split(long split_size, long dim = 0) => Aten.SplitTensor.CallMany(this, split_size, dim);
    public Tensor[] chunk(long chunks, long dim = 0) => Aten.Chunk.CallMany(this, chunks, dim);

    // ---- arithmetic ----
    public Tensor add(Tensor other, double alpha = 1) => Aten.AddTensor.Call(this, other, alpha);
    public Tensor add(double other) => Aten.AddScalar.Call(this, other, 1);
    // Integer scalars keep integer tensors integer (as in PyTorch: int64 + 1 is int64, + 1.0 is float).
    public Tensor add(long other) => Aten.AddScalar.Call(this, other, 1);
    public Tensor sub(long other) => Aten.SubScalar.Call(this, other, 1);
    public Tensor mul(long other) => Aten.MulScalar.Call(this, other);
    public Tensor sub(Tensor other, double alpha = 1) => Aten.SubTensor.Call(this, other, alpha);
    public Tensor sub(double other) => Aten.SubScalar.Call(this, other, 1);
    public Tensor mul(Tensor other) => Aten.MulTensor.Call(this, other);
    public Tensor mul(double other) => Aten.MulScalar.Call(this, other);
    public Tensor div(Tensor other) => Aten.DivTensor.Call(this, other);
    public Tensor div(double other) => Aten.DivScalar.Call(this, other);
    public Tensor neg() => Aten.Neg.Call(this);
    public Tensor pow(double exponent) => Aten.PowScalar.Call(this, exponent);
    public Tensor sqrt() => Aten.Sqrt.Call(this);
    public Tensor rsqrt() => Aten.Rsqrt.Call(this);
    public Tensor exp() => Aten.Exp.Call(this);
    public Tensor log() => Aten.Log.Call(this);
    public Tensor abs() => Aten.Abs.Call(this);
    public Tensor sign() => Aten.Sign.Call(this);
    public Tensor square() => Aten.Square.Call(this);
    public Tensor tanh() => Aten.Tanh.Call(this);
    public Tensor clamp(double? min = null, double? max = null) =>
        Aten.Clamp.Call(this, min is { } lo ? lo : Arg.None, max is { } hi ? hi : Arg.None);
    public Tensor maximum(Tensor other) => Aten.Maximum.Call(this, other);
    public Tensor minimum(Tensor other) => Aten.Minimum.Call(this, other);
    public Tensor masked_fill(Tensor mask, double value) => Aten.MaskedFill.Call(this, mask, value);
    public Tensor matmul(Tensor other) => Aten.Matmul.Call(this, other);
    public Tensor mm(Tensor other) => Aten.Mm.Call(this, other);
    public Tensor lerp(Tensor end, double weight) => Aten.Lerp.Call(this, end, weight);

    public static Tensor operator +(Tensor a, Tensor b) => a.add(b);
    public static Tensor operator +(Tensor a, double b) => a.add(b);
    public static Tensor operator +(Tensor a, long b) => a.add(b);
    public static Tensor operator -(Tensor a, long b) => a.sub(b);
    public static Tensor operator *(Tensor a, long b) => a.mul(b);
    public static Tensor operator +(double a, Tensor b) => b.add(a);
    public static Tensor operator -(Tensor a, Tensor b) => a.sub(b);
    public static Tensor operator -(Tensor a, double b) => a.sub(b);
    public static Tensor operator -(double a, Tensor b) => Aten.RsubScalar.Call(b, a, 1);
    public static Tensor operator -(Tensor a) => a.neg();
    public static Tensor operator *(Tensor a, Tensor b) => a.mul(b);
    public static Tensor operator *(Tensor a, double b) => a.mul(b);
    public static Tensor operator *(double a, Tensor b) => b.mul(a);
    public static Tensor operator /(Tensor a, Tensor b) => a.div(b);
    public static Tensor operator /(Tensor a, double b) => a.div(b);

    // ---- in place ----
    public Tensor add_(Tensor other, double alpha = 1) { Aten.AddTensor_.CallInPlace(this, other, alpha); return this; }
    public Tensor add_(double other) { Aten.AddScalar_.CallInPlace(this, other, 1); return this; }
    public Tensor sub_(Tensor other, double alpha = 1) { Aten.SubTensor_.CallInPlace(this, other, alpha); return this; }
    public Tensor mul_(Tensor other) { Aten.MulTensor_.CallInPlace(this, other); return this; }
    public Tensor mul_(double other) { Aten.MulScalar_.CallInPlace(this, other); return this; }
    public Tensor div_(Tensor other) { Aten.DivTensor_.CallInPlace(this, other); return this; }
    public Tensor div_(double other) { Aten.DivScalar_.CallInPlace(this, other); return this; }
    public Tensor addcmul_(Tensor tensor1, Tensor tensor2, double value = 1) { Aten.Addcmul_.CallInPlace(this, tensor1, tensor2, value); return this; }
    public Tensor addcdiv_(Tensor tensor1, Tensor tensor2, double value = 1) { Aten.Addcdiv_.CallInPlace(this, tensor1, tensor2, value); return this; }
    public Tensor lerp_(Tensor end, double weight) { Aten.LerpScalar_.CallInPlace(this, end, weight); return this; }
    public Tensor sqrt_() { Aten.Sqrt_.CallInPlace(this); return this; }
    public Tensor zero_() { Aten.Zero_.CallInPlace(this); return this; }
    public Tensor fill_(double value) { Aten.FillScalar_.CallInPlace(this, value); return this; }
    public Tensor clamp_(double? min = null, double? max = null)
    {
        Aten.Clamp_.CallInPlace(this, min is { } lo ? lo : Arg.None, max is { } hi ? hi : Arg.None);
        return this;
    }
    public Tensor copy_(Tensor source) { Aten.Copy_.CallInPlace(this, source); return this; }
    public Tensor normal_(double mean = 0, double std = 1, Generator? generator = null) { Aten.Normal_.CallInPlace(this, mean, std, generator); return this; }
    public Tensor uniform_(double from = 0, double to = 1, Generator? generator = null) { Aten.Uniform_.CallInPlace(this, from, to, generator); return this; }

    // ---- comparison ----
    public Tensor eq(Tensor other) => Aten.EqTensor.Call(this, other);
    public Tensor eq(double other) => Aten.EqScalar.Call(this, other);
    public Tensor ne(double other) => Aten.NeScalar.Call(this, other);
    public Tensor gt(double other) => Aten.GtScalar.Call(this, other);
    public Tensor lt(double other) => Aten.LtScalar.Call(this, other);
    public Tensor isfinite() => Aten.IsFinite.Call(this);
    public Tensor all() => Aten.All.Call(this);
    /// <summary>True when shapes and every element are equal.</summary>
    public bool equal(Tensor other) => Aten.Equal.CallScalar(this, other) != 0;
    public bool allclose(Tensor other, double rtol = 1e-5, double atol = 1e-8) => Aten.AllClose.CallScalar(this, other, rtol, atol) != 0;

    // ---- reductions ----
    public Tensor sum(ScalarType? type = null) => Aten.Sum.Call(this, type);
    public Tensor sum(long[] dim, bool keepdim = false) => Aten.SumDim.Call(this, dim, keepdim);
    public Tensor sum(long dim, bool keepdim = false) => sum([dim], keepdim);
    public Tensor mean() => Aten.Mean.Call(this);
    public Tensor mean(long[] dim, bool keepdim = false) => Aten.MeanDim.Call(this, dim, keepdim);
    public Tensor mean(long dim, bool keepdim = false) => mean([dim], keepdim);
    public Tensor max() => Aten.Max.Call(this);
    public (Tensor values, Tensor indices) max(long dim, bool keepdim = false)
    {
        var r = Aten.MaxDim.CallMany(this, dim, keepdim);
        return (r[0], r[1]);
    }
    public Tensor min() => Aten.Min.Call(this);
    public Tensor argmax(long? dim = null, bool keepdim = false) => Aten.Argmax.Call(this, dim is { } d ? d : Arg.None, keepdim);
    public Tensor cumsum(long dim) => Aten.Cumsum.Call(this, dim);
    /// <summary>The vector 2-norm over all elements (or over <paramref name="dim"/>).</summary>
    public Tensor norm(double p = 2, long[]? dim = null, bool keepdim = false) => Aten.VectorNorm.Call(this, p, dim, keepdim);
    public (Tensor values, Tensor indices) sort(long dim = -1, bool descending = false)
    {
        var r = Aten.Sort.CallMany(this, dim, descending);
        return (r[0], r[1]);
    }
    public (Tensor values, Tensor indices) topk(long k, long dim = -1, bool largest = true, bool sorted = true)
    {
        var r = Aten.Topk.CallMany(this, k, dim, largest, sorted);
        return (r[0], r[1]);
    }

    // ---- neural network functions ----
    public Tensor softmax(long dim) => Aten.Softmax.Call(this, dim);
    public Tensor log_softmax(long dim) => Aten.LogSoftmax.Call(this, dim);
}
