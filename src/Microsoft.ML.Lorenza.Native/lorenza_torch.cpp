// The whole native binding: explicit functions for lifetime, data, autograd, RNG and device facts,
// plus one generic boxed call that reaches every ATen operator by its schema name.
// Compiles against libtorch 1.13 (Debian) and 2.x (PyTorch wheels with CUDA).
#include "lorenza_torch.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/csrc/api/include/torch/cuda.h>
#include <torch/csrc/api/include/torch/version.h>
#include <torch/csrc/autograd/generated/variable_factories.h>
#include <torch/csrc/jit/serialization/pickle.h>

#ifdef LT_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <cstring>
#include <dlfcn.h>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace {

thread_local std::string last_error;

void set_error(const char* message) { last_error = message ? message : "unknown error"; }

#define LT_TRY try {
#define LT_CATCH                                      \
  }                                                   \
  catch (const c10::Error& e) {                       \
    set_error(e.what_without_backtrace());            \
    return 1;                                         \
  }                                                   \
  catch (const std::exception& e) {                   \
    set_error(e.what());                              \
    return 1;                                         \
  }                                                   \
  catch (...) {                                       \
    set_error("unknown native exception");            \
    return 1;                                         \
  }                                                   \
  return 0;

// A tensor handle is a TensorImpl* that owns one reference (no extra heap object per tensor).
using ImplPtr = c10::intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl>;

at::Tensor T(lt_tensor t) {
  if (t == nullptr) throw std::invalid_argument("null tensor handle");
  return at::Tensor(ImplPtr::reclaim_copy(static_cast<c10::TensorImpl*>(t)));
}

lt_tensor wrap(at::Tensor t) { return t.unsafeReleaseTensorImpl(); }

int copy_string(const std::string& s, char* buffer, int64_t capacity, int64_t* written) {
  *written = static_cast<int64_t>(s.size());
  if (buffer != nullptr && capacity > 0) {
    auto n = std::min<int64_t>(capacity - 1, static_cast<int64_t>(s.size()));
    std::memcpy(buffer, s.data(), static_cast<size_t>(n));
    buffer[n] = '\0';
  }
  return 0;
}

// Builds the IValue for one argument, using the schema's declared type where the C ABI's kind
// alone is ambiguous (a number for a `float` parameter, a list for `Tensor?[]`).
c10::IValue to_ivalue(const lt_arg& a, const c10::Argument& formal) {
  const auto& type = formal.type();
  switch (a.kind) {
    case LT_NONE:
      return c10::IValue();
    case LT_TENSOR:
      return c10::IValue(T(a.ptr));
    case LT_INT:
      if (type->kind() == c10::TypeKind::FloatType) return c10::IValue(static_cast<double>(a.i));
      return c10::IValue(a.i);
    case LT_DOUBLE:
      return c10::IValue(a.d);
    case LT_BOOL:
      return c10::IValue(a.i != 0);
    case LT_INT_LIST: {
      const auto* p = static_cast<const int64_t*>(a.ptr);
      return c10::IValue(std::vector<int64_t>(p, p + a.len));
    }
    case LT_DOUBLE_LIST: {
      const auto* p = static_cast<const double*>(a.ptr);
      return c10::IValue(std::vector<double>(p, p + a.len));
    }
    case LT_BOOL_LIST: {
      const auto* p = static_cast<const uint8_t*>(a.ptr);
      c10::List<bool> list;
      for (int64_t k = 0; k < a.len; ++k) list.push_back(p[k] != 0);
      return c10::IValue(list);
    }
    case LT_TENSOR_LIST: {
      const auto* p = static_cast<const lt_tensor*>(a.ptr);
      bool optional_elements = false;
      if (auto list_type = type->cast<c10::ListType>())
        optional_elements = list_type->getElementType()->kind() == c10::TypeKind::OptionalType;
      if (optional_elements) {
        c10::List<c10::optional<at::Tensor>> list;
        for (int64_t k = 0; k < a.len; ++k)
          list.push_back(p[k] ? c10::optional<at::Tensor>(T(p[k])) : c10::nullopt);
        return c10::IValue(list);
      }
      c10::List<at::Tensor> list;
      for (int64_t k = 0; k < a.len; ++k) list.push_back(T(p[k]));
      return c10::IValue(list);
    }
    case LT_STRING:
      return c10::IValue(std::string(static_cast<const char*>(a.ptr)));
    case LT_GENERATOR:
      return c10::IValue(*static_cast<at::Generator*>(a.ptr));
    case LT_DEVICE:
      return c10::IValue(c10::Device(a.i == 1 ? c10::DeviceType::CUDA : c10::DeviceType::CPU,
                                     static_cast<c10::DeviceIndex>(a.len)));
    default:
      throw std::invalid_argument("unknown argument kind " + std::to_string(a.kind));
  }
}

void put_result(const c10::IValue& v, lt_arg* outs, int32_t max_outs, int32_t* n) {
  if (v.isTuple()) {
    for (const auto& e : v.toTupleRef().elements()) put_result(e, outs, max_outs, n);
    return;
  }
  if (v.isTensorList()) {
    for (const at::Tensor& t : v.toTensorVector()) put_result(c10::IValue(t), outs, max_outs, n);
    return;
  }
  if (*n >= max_outs)
    throw std::out_of_range("operator returned more than " + std::to_string(max_outs) + " results");
  lt_arg& o = outs[(*n)++];
  o = lt_arg{};
  if (v.isTensor()) {
    const at::Tensor& t = v.toTensor();
    if (t.defined()) {
      o.kind = LT_TENSOR;
      o.ptr = wrap(t);
    }
  } else if (v.isDouble()) {
    o.kind = LT_DOUBLE;
    o.d = v.toDouble();
  } else if (v.isInt()) {
    o.kind = LT_INT;
    o.i = v.toInt();
  } else if (v.isBool()) {
    o.kind = LT_BOOL;
    o.i = v.toBool() ? 1 : 0;
  } else if (!v.isNone()) {
    throw std::invalid_argument("unsupported result type " + v.tagKind());
  }
}

template <typename F>
F* openblas_symbol(const char* name) {
  return reinterpret_cast<F*>(dlsym(RTLD_DEFAULT, name));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
LT_API const char* lt_last_error(void) { return last_error.c_str(); }

LT_API const char* lt_torch_version(void) { return TORCH_VERSION; }

LT_API int lt_parallel_info(char* buffer, int64_t capacity, int64_t* written) {
  LT_TRY
  copy_string(at::get_parallel_info(), buffer, capacity, written);
  LT_CATCH
}

LT_API int lt_set_num_threads(int32_t threads) {
  LT_TRY
  at::set_num_threads(threads);
  LT_CATCH
}

LT_API int32_t lt_get_num_threads(void) { return at::get_num_threads(); }

LT_API int32_t lt_blas_num_threads(void) {
  auto* f = openblas_symbol<int()>("openblas_get_num_threads");
  return f ? f() : -1;
}

LT_API const char* lt_blas_config(void) {
  auto* f = openblas_symbol<char*()>("openblas_get_config");
  return f ? f() : "";
}

LT_API int32_t lt_cuda_is_available(void) {
  try {
    return torch::cuda::is_available() ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

LT_API int32_t lt_cuda_device_count(void) {
  try {
    return static_cast<int32_t>(torch::cuda::device_count());
  } catch (...) {
    return 0;
  }
}

LT_API int lt_cuda_synchronize(int32_t device_index) {
  LT_TRY
  torch::cuda::synchronize(device_index);
  LT_CATCH
}

LT_API int lt_cuda_memory_stats(int32_t device_index, int64_t* allocated, int64_t* peak_allocated,
                                int64_t* reserved) {
  LT_TRY
#ifdef LT_WITH_CUDA
  // Index 0 of each stat array is the aggregate over pool types, in every libtorch version.
  auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device_index);
  *allocated = stats.allocated_bytes[0].current;
  *peak_allocated = stats.allocated_bytes[0].peak;
  *reserved = stats.reserved_bytes[0].current;
#else
  (void)device_index;
  *allocated = *peak_allocated = *reserved = 0;
  throw std::runtime_error("liblorenza_torch was built without CUDA; rebuild it against a CUDA libtorch");
#endif
  LT_CATCH
}

LT_API int lt_cuda_reset_peak(int32_t device_index) {
  LT_TRY
#ifdef LT_WITH_CUDA
  c10::cuda::CUDACachingAllocator::resetPeakStats(device_index);
#else
  (void)device_index;
  throw std::runtime_error("liblorenza_torch was built without CUDA; rebuild it against a CUDA libtorch");
#endif
  LT_CATCH
}

LT_API int lt_cuda_autocast(int32_t enabled, int32_t dtype, int32_t* was_enabled) {
  LT_TRY
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  *was_enabled = at::autocast::is_autocast_enabled(at::kCUDA) ? 1 : 0;
  if (enabled) at::autocast::set_autocast_dtype(at::kCUDA, static_cast<at::ScalarType>(dtype));
  at::autocast::set_autocast_enabled(at::kCUDA, enabled != 0);
#else
  *was_enabled = at::autocast::is_enabled() ? 1 : 0;
  if (enabled) at::autocast::set_autocast_gpu_dtype(static_cast<at::ScalarType>(dtype));
  at::autocast::set_enabled(enabled != 0);
#endif
  if (!enabled && *was_enabled) at::autocast::clear_cache();
  LT_CATCH
}

// ---------------------------------------------------------------------------------------------
LT_API void lt_tensor_free(lt_tensor t) {
  if (t != nullptr) ImplPtr::reclaim(static_cast<c10::TensorImpl*>(t));  // drops the handle's reference
}

LT_API int lt_tensor_from_data(const void* data, int64_t nbytes, const int64_t* shape, int32_t ndim,
                               int32_t dtype, lt_tensor* out) {
  LT_TRY
  at::Tensor t = at::empty(c10::IntArrayRef(shape, static_cast<size_t>(ndim)),
                           at::TensorOptions().dtype(static_cast<c10::ScalarType>(dtype)));
  const int64_t expected = t.numel() * static_cast<int64_t>(t.element_size());
  if (nbytes != expected)
    throw std::invalid_argument("data holds " + std::to_string(nbytes) + " bytes but shape " +
                                c10::str(t.sizes()) + " needs " + std::to_string(expected));
  if (nbytes > 0) std::memcpy(t.data_ptr(), data, static_cast<size_t>(nbytes));
  *out = wrap(std::move(t));
  LT_CATCH
}

LT_API int lt_tensor_copy_to(lt_tensor t, void* dst, int64_t nbytes) {
  LT_TRY
  at::Tensor src = T(t).detach().to(at::kCPU).contiguous();
  const int64_t have = src.numel() * static_cast<int64_t>(src.element_size());
  if (nbytes != have)
    throw std::invalid_argument("destination holds " + std::to_string(nbytes) + " bytes but tensor " +
                                c10::str(src.sizes()) + " has " + std::to_string(have));
  if (nbytes > 0) std::memcpy(dst, src.data_ptr(), static_cast<size_t>(nbytes));
  LT_CATCH
}

LT_API int lt_tensor_copy_from(lt_tensor t, const void* src, int64_t nbytes) {
  LT_TRY
  at::Tensor target = T(t);
  const int64_t have = target.numel() * static_cast<int64_t>(target.element_size());
  if (nbytes != have)
    throw std::invalid_argument("source holds " + std::to_string(nbytes) + " bytes but tensor " +
                                c10::str(target.sizes()) + " has " + std::to_string(have));
  at::Tensor staging = at::from_blob(const_cast<void*>(src), target.sizes(),
                                     at::TensorOptions().dtype(target.scalar_type()));
  at::NoGradGuard no_grad;
  target.copy_(staging);
  LT_CATCH
}

LT_API int lt_tensor_meta(lt_tensor t, lt_meta* meta, int64_t* shape, int32_t shape_capacity) {
  LT_TRY
  const at::Tensor x = T(t);
  *meta = lt_meta{};
  meta->defined = x.defined() ? 1 : 0;
  if (!x.defined()) return 0;
  meta->dtype = static_cast<int32_t>(x.scalar_type());
  meta->ndim = static_cast<int32_t>(x.dim());
  meta->device_type = x.device().is_cuda() ? 1 : 0;
  meta->device_index = x.device().has_index() ? x.device().index() : -1;
  meta->requires_grad = x.requires_grad() ? 1 : 0;
  meta->is_leaf = x.is_leaf() ? 1 : 0;
  meta->numel = x.numel();
  if (meta->ndim > shape_capacity) throw std::out_of_range("tensor has more dimensions than the buffer");
  for (int32_t k = 0; k < meta->ndim; ++k) shape[k] = x.size(k);
  LT_CATCH
}

LT_API int lt_tensor_alias(lt_tensor t, lt_tensor* out) {
  LT_TRY
  *out = wrap(T(t));
  LT_CATCH
}

LT_API void* lt_tensor_data_ptr(lt_tensor t) {
  try {
    const at::Tensor x = T(t);
    if (!x.defined() || !x.device().is_cpu() || !x.is_contiguous()) return nullptr;
    return x.data_ptr();
  } catch (...) {
    return nullptr;
  }
}

LT_API int lt_tensor_set_data(lt_tensor t, lt_tensor data) {
  LT_TRY
  T(t).set_data(T(data));
  LT_CATCH
}

// ---------------------------------------------------------------------------------------------
LT_API int lt_tensor_set_requires_grad(lt_tensor t, int32_t requires_grad) {
  LT_TRY
  T(t).set_requires_grad(requires_grad != 0);
  LT_CATCH
}

LT_API int lt_tensor_grad(lt_tensor t, lt_tensor* out) {
  LT_TRY
  const at::Tensor g = T(t).grad();
  *out = g.defined() ? wrap(g) : nullptr;
  LT_CATCH
}

LT_API int lt_tensor_set_grad(lt_tensor t, lt_tensor grad) {
  LT_TRY
  T(t).mutable_grad() = grad ? T(grad) : at::Tensor();
  LT_CATCH
}

LT_API int lt_tensor_backward(lt_tensor t, lt_tensor grad, int32_t retain_graph) {
  LT_TRY
  c10::optional<at::Tensor> g;
  if (grad) g = T(grad);
  T(t).backward(g.has_value() ? *g : at::Tensor(), retain_graph != 0, false);
  LT_CATCH
}

LT_API int32_t lt_grad_enabled(void) { return at::GradMode::is_enabled() ? 1 : 0; }

LT_API void lt_set_grad_enabled(int32_t enabled) { at::GradMode::set_enabled(enabled != 0); }

// ---------------------------------------------------------------------------------------------
LT_API int lt_manual_seed(uint64_t seed) {
  LT_TRY
  at::manual_seed(seed);
  LT_CATCH
}

LT_API int lt_generator_new_cpu(uint64_t seed, lt_generator* out) {
  LT_TRY
  *out = new at::Generator(at::make_generator<at::CPUGeneratorImpl>(seed));
  LT_CATCH
}

LT_API int lt_generator_default(int32_t device_type, int32_t device_index, lt_generator* out) {
  LT_TRY
  c10::Device device(device_type == 1 ? c10::DeviceType::CUDA : c10::DeviceType::CPU);
  if (device_type == 1)
    device = c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(device_index < 0 ? 0 : device_index));
  *out = new at::Generator(at::globalContext().defaultGenerator(device));
  LT_CATCH
}

LT_API void lt_generator_free(lt_generator g) { delete static_cast<at::Generator*>(g); }

LT_API int lt_generator_set_seed(lt_generator g, uint64_t seed) {
  LT_TRY
  auto* gen = static_cast<at::Generator*>(g);
  std::lock_guard<std::mutex> lock(gen->mutex());
  gen->set_current_seed(seed);
  LT_CATCH
}

LT_API int lt_generator_get_state(lt_generator g, lt_tensor* out) {
  LT_TRY
  auto* gen = static_cast<at::Generator*>(g);
  std::lock_guard<std::mutex> lock(gen->mutex());
  *out = wrap(gen->get_state());
  LT_CATCH
}

LT_API int lt_generator_set_state(lt_generator g, lt_tensor state) {
  LT_TRY
  auto* gen = static_cast<at::Generator*>(g);
  std::lock_guard<std::mutex> lock(gen->mutex());
  gen->set_state(T(state));
  LT_CATCH
}

// ---------------------------------------------------------------------------------------------
LT_API int lt_op_find(const char* name, const char* overload, lt_op* out) {
  LT_TRY
  auto handle = c10::Dispatcher::singleton().findSchemaOrThrow(name, overload ? overload : "");
  *out = new c10::OperatorHandle(handle);
  LT_CATCH
}

LT_API void lt_op_free(lt_op op) { delete static_cast<c10::OperatorHandle*>(op); }

LT_API int lt_op_schema(lt_op op, char* buffer, int64_t capacity, int64_t* written) {
  LT_TRY
  std::ostringstream s;
  s << static_cast<c10::OperatorHandle*>(op)->schema();
  copy_string(s.str(), buffer, capacity, written);
  LT_CATCH
}

LT_API int lt_op_call(lt_op op, const lt_arg* args, int32_t nargs, lt_arg* outs, int32_t max_outs,
                      int32_t* nouts) {
  LT_TRY
  auto* handle = static_cast<c10::OperatorHandle*>(op);
  const auto& formals = handle->schema().arguments();
  if (static_cast<size_t>(nargs) > formals.size())
    throw std::invalid_argument(std::to_string(nargs) + " arguments given but " + handle->schema().name() +
                                " takes " + std::to_string(formals.size()));
  // One stack per thread, reused: a tiny op call then allocates nothing here.
  thread_local torch::jit::Stack stack;
  stack.clear();
  for (size_t k = 0; k < formals.size(); ++k) {
    if (k < static_cast<size_t>(nargs)) {
      stack.push_back(to_ivalue(args[k], formals[k]));
    } else if (formals[k].default_value().has_value()) {
      stack.push_back(*formals[k].default_value());
    } else {
      throw std::invalid_argument(handle->schema().name() + ": missing argument '" + formals[k].name() + "'");
    }
  }
  handle->callBoxed(&stack);
  *nouts = 0;
  if (max_outs > 0)
    for (const auto& v : stack) put_result(v, outs, max_outs, nouts);
  stack.clear();  // release the results' references now, not at the next call
  LT_CATCH
}

// ---------------------------------------------------------------------------------------------
namespace {
using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;
}

LT_API int lt_pickle_load_state_dict(const char* path, lt_dict* out, int64_t* count) {
  LT_TRY
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error(std::string("cannot open ") + path);
  std::vector<char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  c10::IValue value = torch::jit::pickle_load(bytes);
  if (!value.isGenericDict())
    throw std::runtime_error(std::string(path) + " does not hold a state dict (found " + value.tagKind() + ")");
  auto entries = std::make_unique<NamedTensors>();
  for (const auto& item : value.toGenericDict()) {
    if (!item.key().isString() || !item.value().isTensor()) continue;
    entries->emplace_back(item.key().toStringRef(), item.value().toTensor());
  }
  *count = static_cast<int64_t>(entries->size());
  *out = entries.release();
  LT_CATCH
}

LT_API int lt_dict_entry(lt_dict d, int64_t index, const char** name, lt_tensor* tensor) {
  LT_TRY
  auto& entries = *static_cast<NamedTensors*>(d);
  if (index < 0 || index >= static_cast<int64_t>(entries.size())) throw std::out_of_range("dict index");
  *name = entries[static_cast<size_t>(index)].first.c_str();
  *tensor = wrap(entries[static_cast<size_t>(index)].second);
  LT_CATCH
}

LT_API void lt_dict_free(lt_dict d) { delete static_cast<NamedTensors*>(d); }
