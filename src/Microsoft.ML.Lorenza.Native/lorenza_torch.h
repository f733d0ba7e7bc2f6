// C ABI over libtorch, consumed by Microsoft.ML.Lorenza.Core/Torch/Native.cs.
//
// Conventions:
//  * Every function that can fail returns int: 0 on success, 1 on failure. The failure's text
//    (libtorch's own message) is read with lt_last_error(); it is thread-local.
//  * Handles are opaque heap objects; the caller frees each with its *_free function.
//  * Nothing here aborts the process: every C++ exception is caught at the boundary.
#pragma once
#include <stdint.h>

#if defined(_WIN32)
#define LT_API extern "C" __declspec(dllexport)
#else
#define LT_API extern "C" __attribute__((visibility("default")))
#endif

typedef void* lt_tensor;     // c10::TensorImpl* owning one reference
typedef void* lt_op;         // c10::OperatorHandle*
typedef void* lt_generator;  // at::Generator*
typedef void* lt_dict;       // list of (name, tensor) pairs

// One argument or result of a boxed operator call: a tagged union, laid out for blittable P/Invoke.
enum lt_kind {
  LT_NONE = 0,
  LT_TENSOR = 1,       // ptr = lt_tensor
  LT_INT = 2,          // i (also dtype, reduction, dim, ...)
  LT_DOUBLE = 3,       // d
  LT_BOOL = 4,         // i != 0
  LT_INT_LIST = 5,     // ptr = const int64_t*, len
  LT_DOUBLE_LIST = 6,  // ptr = const double*, len
  LT_TENSOR_LIST = 7,  // ptr = const lt_tensor*, len (null entries become None in Tensor?[] lists)
  LT_STRING = 8,       // ptr = const char* (UTF-8, NUL-terminated)
  LT_GENERATOR = 9,    // ptr = lt_generator
  LT_DEVICE = 10,      // i = device type (0 cpu, 1 cuda), len = device index (-1: current)
  LT_BOOL_LIST = 11,   // ptr = const uint8_t*, len
};

typedef struct lt_arg {
  int32_t kind;
  int32_t reserved;
  int64_t i;
  double d;
  void* ptr;
  int64_t len;
} lt_arg;

LT_API const char* lt_last_error(void);

// ---- library and process facts ----
LT_API const char* lt_torch_version(void);
LT_API int lt_parallel_info(char* buffer, int64_t capacity, int64_t* written);
LT_API int lt_set_num_threads(int32_t threads);
LT_API int32_t lt_get_num_threads(void);
LT_API int32_t lt_blas_num_threads(void);  // OpenBLAS's own pool; -1 when BLAS is not OpenBLAS
LT_API const char* lt_blas_config(void);  // OpenBLAS build description, "" when not OpenBLAS
LT_API int32_t lt_cuda_is_available(void);
LT_API int32_t lt_cuda_device_count(void);
LT_API int lt_cuda_synchronize(int32_t device_index);
// Peak and current bytes held by the CUDA caching allocator; fails when built without CUDA.
LT_API int lt_cuda_memory_stats(int32_t device_index, int64_t* allocated, int64_t* peak_allocated,
                                int64_t* reserved);
LT_API int lt_cuda_reset_peak(int32_t device_index);

// CUDA autocast (mixed precision) on this thread: enabled with a reduced dtype (bf16/f16), or disabled.
// Returns the previous state in *was_enabled so callers can restore it. Leaves the autocast cache
// cleared when the outermost region ends, as torch.autocast does.
LT_API int lt_cuda_autocast(int32_t enabled, int32_t dtype, int32_t* was_enabled);

// ---- tensors ----
LT_API void lt_tensor_free(lt_tensor t);
// A fresh contiguous CPU tensor holding a copy of `data` (nbytes must equal numel * element size).
LT_API int lt_tensor_from_data(const void* data, int64_t nbytes, const int64_t* shape, int32_t ndim,
                               int32_t dtype, lt_tensor* out);
// Copies the tensor's elements (any device, any layout) into `dst` in row-major order.
LT_API int lt_tensor_copy_to(lt_tensor t, void* dst, int64_t nbytes);
// Copies row-major data from `src` into the existing tensor (any device), keeping its storage.
LT_API int lt_tensor_copy_from(lt_tensor t, const void* src, int64_t nbytes);

typedef struct lt_meta {
  int32_t dtype;
  int32_t ndim;
  int32_t device_type;
  int32_t device_index;
  int32_t requires_grad;
  int32_t is_leaf;
  int32_t defined;
  int32_t reserved;
  int64_t numel;
} lt_meta;
LT_API int lt_tensor_meta(lt_tensor t, lt_meta* meta, int64_t* shape, int32_t shape_capacity);
LT_API int lt_tensor_alias(lt_tensor t, lt_tensor* out);  // a second handle to the same tensor
LT_API void* lt_tensor_data_ptr(lt_tensor t);               // null unless CPU and contiguous
// Swaps the tensor's data for `data`'s, keeping its identity for autograd (like `param.data = x`).
LT_API int lt_tensor_set_data(lt_tensor t, lt_tensor data);

// ---- autograd ----
LT_API int lt_tensor_set_requires_grad(lt_tensor t, int32_t requires_grad);
LT_API int lt_tensor_grad(lt_tensor t, lt_tensor* out);      // *out = null when no gradient
LT_API int lt_tensor_set_grad(lt_tensor t, lt_tensor grad);  // grad = null clears it
LT_API int lt_tensor_backward(lt_tensor t, lt_tensor grad, int32_t retain_graph);
LT_API int32_t lt_grad_enabled(void);
LT_API void lt_set_grad_enabled(int32_t enabled);

// ---- random numbers ----
LT_API int lt_manual_seed(uint64_t seed);
LT_API int lt_generator_new_cpu(uint64_t seed, lt_generator* out);
LT_API int lt_generator_default(int32_t device_type, int32_t device_index, lt_generator* out);
LT_API void lt_generator_free(lt_generator g);
LT_API int lt_generator_set_seed(lt_generator g, uint64_t seed);
LT_API int lt_generator_get_state(lt_generator g, lt_tensor* out);  // a uint8 tensor
LT_API int lt_generator_set_state(lt_generator g, lt_tensor state);

// ---- operators, looked up once and called boxed ----
LT_API int lt_op_find(const char* name, const char* overload, lt_op* out);
LT_API void lt_op_free(lt_op op);
LT_API int lt_op_schema(lt_op op, char* buffer, int64_t capacity, int64_t* written);
// Calls the operator with args[0..nargs); trailing arguments take the schema's defaults.
// Results are flattened (tuples, tensor lists) into outs[0..*nouts). Tensor results are new
// handles the caller owns. With max_outs = 0 the results are dropped (in-place ops).
LT_API int lt_op_call(lt_op op, const lt_arg* args, int32_t nargs, lt_arg* outs, int32_t max_outs,
                      int32_t* nouts);

// ---- torch.save'd files (pytorch_model.bin) ----
LT_API int lt_pickle_load_state_dict(const char* path, lt_dict* out, int64_t* count);
LT_API int lt_dict_entry(lt_dict d, int64_t index, const char** name, lt_tensor* tensor);
LT_API void lt_dict_free(lt_dict d);
