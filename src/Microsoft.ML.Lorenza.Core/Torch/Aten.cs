namespace Microsoft.ML.Lorenza.Torch;

/// <summary>
/// The ATen operators the project uses, each looked up once by schema name. The typed wrappers in
/// Tensor.Ops.cs and torch.cs call these; schemas are quoted where the argument order is not obvious.
/// </summary>
internal static class Aten
{
    // creation
    public static readonly Op Empty = new("aten::empty", "memory_format");
    public static readonly Op Zeros = new("aten::zeros");
    public static readonly Op Ones = new("aten::ones");
    public static readonly Op Full = new("aten::full");
    public static readonly Op ArangeStartStep = new("aten::arange", "start_step");
    public static readonly Op Eye = new("aten::eye");
    public static readonly Op RandnGenerator = new("aten::randn", "generator");
    public static readonly Op RandGenerator = new("aten::rand", "generator");
    public static readonly Op RandpermGenerator = new("aten::randperm", "generator");
    public static readonly Op ZerosLike = new("aten::zeros_like");
    public static readonly Op OnesLike = new("aten::ones_like");
    public static readonly Op EmptyLike = new("aten::empty_like");
    public static readonly Op Normal_ = new("aten::normal_"); // (self, mean, std, *, generator)
    public static readonly Op Uniform_ = new("aten::uniform_"); // (self, from, to, *, generator)

    // conversion, copies, views
    public static readonly Op ToDtype = new("aten::to", "dtype");
    public static readonly Op ToDevice = new("aten::to", "device");
    public static readonly Op Clone = new("aten::clone");
    public static readonly Op Detach = new("aten::detach");
    public static readonly Op Contiguous = new("aten::contiguous");
    public static readonly Op Copy_ = new("aten::copy_");
    public static readonly Op View = new("aten::view");
    public static readonly Op Reshape = new("aten::reshape");
    public static readonly Op Transpose = new("aten::transpose", "int");
    public static readonly Op T = new("aten::t");
    public static readonly Op Permute = new("aten::permute");
    public static readonly Op Unsqueeze = new("aten::unsqueeze");
    public static readonly Op SqueezeDim = new("aten::squeeze", "dim");
    public static readonly Op Expand = new("aten::expand");
    public static readonly Op Narrow = new("aten::narrow");
    public static readonly Op SelectInt = new("aten::select", "int");
    public static readonly Op IndexSelect = new("aten::index_select");
    public static readonly Op Gather = new("aten::gather");
    public static readonly Op Cat = new("aten::cat");
    public static readonly Op Stack = new("aten::stack");
    public static readonly Op SplitTensor = new("aten::split", "Tensor");
    public static readonly Op Chunk = new("aten::chunk");
    public static readonly Op Flatten = new("aten::flatten", "using_ints");
    public static readonly Op Diag = new("aten::diag");

    // arithmetic
    public static readonly Op AddTensor = new("aten::add", "Tensor"); // (self, other, *, alpha=1)
    public static readonly Op AddScalar = new("aten::add", "Scalar");
    public static readonly Op SubTensor = new("aten::sub", "Tensor");
    public static readonly Op SubScalar = new("aten::sub", "Scalar");
    public static readonly Op MulTensor = new("aten::mul", "Tensor");
    public static readonly Op MulScalar = new("aten::mul", "Scalar");
    public static readonly Op DivTensor = new("aten::div", "Tensor");
    public static readonly Op DivScalar = new("aten::div", "Scalar");
    public static readonly Op RsubScalar = new("aten::rsub", "Scalar");
    public static readonly Op Neg = new("aten::neg");
    public static readonly Op PowScalar = new("aten::pow", "Tensor_Scalar");
    public static readonly Op Sqrt = new("aten::sqrt");
    public static readonly Op Rsqrt = new("aten::rsqrt");
    public static readonly Op Exp = new("aten::exp");
    public static readonly Op Log = new("aten::log");
    public static readonly Op Abs = new("aten::abs");
    public static readonly Op Sign = new("aten::sign");
    public static readonly Op Square = new("aten::square");
    public static readonly Op Clamp = new("aten::clamp"); // (self, Scalar? min, Scalar? max)
    public static readonly Op Maximum = new("aten::maximum");
    public static readonly Op Minimum = new("aten::minimum");
    public static readonly Op Where = new("aten::where", "self");
    public static readonly Op MaskedFill = new("aten::masked_fill", "Scalar");
    public static readonly Op Lerp = new("aten::lerp", "Scalar");

    // in place
    public static readonly Op AddTensor_ = new("aten::add_", "Tensor");
    public static readonly Op AddScalar_ = new("aten::add_", "Scalar");
    public static readonly Op SubTensor_ = new("aten::sub_", "Tensor");
    public static readonly Op MulTensor_ = new("aten::mul_", "Tensor");
    public static readonly Op MulScalar_ = new("aten::mul_", "Scalar");
    public static readonly Op DivTensor_ = new("aten::div_", "Tensor");
    public static readonly Op DivScalar_ = new("aten::div_", "Scalar");
    public static readonly Op Addcmul_ = new("aten::addcmul_"); // (self, t1, t2, *, value=1)
    public static readonly Op Addcdiv_ = new("aten::addcdiv_");
    public static readonly Op LerpScalar_ = new("aten::lerp_", "Scalar");
    public static readonly Op Sqrt_ = new("aten::sqrt_");
    public static readonly Op Zero_ = new("aten::zero_");
    public static readonly Op FillScalar_ = new("aten::fill_", "Scalar");
    public static readonly Op Clamp_ = new("aten::clamp_");

    // comparison and logic
    public static readonly Op EqTensor = new("aten::eq", "Tensor");
    public static readonly Op EqScalar = new("aten::eq", "Scalar");
    public static readonly Op NeScalar = new("aten::ne", "Scalar");
    public static readonly Op GtScalar = new("aten::gt", "Scalar");
    public static readonly Op LtScalar = new("aten::lt", "Scalar");
    public static readonly Op IsFinite = new("aten::isfinite");
    public static readonly Op All = new("aten::all");
    public static readonly Op Equal = new("aten::equal");
    public static readonly Op AllClose = new("aten::allclose");

    // reductions and norms
    public static readonly Op Sum = new("aten::sum");
    public static readonly Op SumDim = new("aten::sum", "dim_IntList");
    public static readonly Op Mean = new("aten::mean");
    public static readonly Op MeanDim = new("aten::mean", "dim");
    public static readonly Op Max = new("aten::max");
    public static readonly Op MaxDim = new("aten::max", "dim");
    public static readonly Op Min = new("aten::min");
    public static readonly Op Argmax = new("aten::argmax");
    public static readonly Op Cumsum = new("aten::cumsum");
    public static readonly Op VectorNorm = new("aten::linalg_vector_norm"); // (self, ord=2, dim=None, keepdim, *, dtype)
    public static readonly Op Sort = new("aten::sort");
    public static readonly Op Topk = new("aten::topk");

    // linear algebra
    public static readonly Op Matmul = new("aten::matmul");
    public static readonly Op Mm = new("aten::mm");
    public static readonly Op Bmm = new("aten::bmm");
    public static readonly Op Linear = new("aten::linear");
    public static readonly Op Outer = new("aten::outer");
    public static readonly Op LinalgQr = new("aten::linalg_qr"); // (A, mode="reduced") -> (Q, R)
    public static readonly Op LinalgSvd = new("aten::linalg_svd"); // (A, full_matrices=True, *, driver) -> (U, S, Vh)

    // neural network functions
    public static readonly Op Softmax = new("aten::softmax", "int");
    public static readonly Op LogSoftmax = new("aten::log_softmax", "int");
    public static readonly Op LayerNorm = new("aten::layer_norm");
    public static readonly Op Gelu = new("aten::gelu");
    public static readonly Op Tanh = new("aten::tanh");
    public static readonly Op Relu = new("aten::relu");
    public static readonly Op Sigmoid = new("aten::sigmoid");
    public static readonly Op Dropout = new("aten::dropout");
    public static readonly Op Embedding = new("aten::embedding");
    public static readonly Op CrossEntropy = new("aten::cross_entropy_loss");
    public static readonly Op NllLoss = new("aten::nll_loss");
    public static readonly Op ScaledDotProductAttention = new("aten::scaled_dot_product_attention");
}
