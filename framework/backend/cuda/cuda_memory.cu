// CUDA memory, filling, random numbers and casts; the backend instance and the status queries.
#include <string>

#include "framework/backend/cuda/cuda_backend.h"
#include "framework/backend/cuda/cuda_kernels.cuh"
#include "framework/backend/cuda_status.h"
#include "framework/backend/host_copies.h"
#include "framework/random.h"

namespace tg {
namespace {

// When cudaMalloc runs out, the caching allocator gives its free segments back and asks again
// (framework/storage.h); here the failure only becomes a tg::Error naming the size.
void* device_malloc(size_t bytes) {
  void* pointer = nullptr;
  const cudaError_t status = cudaMalloc(&pointer, bytes);
  if (status == cudaErrorMemoryAllocation) cudaGetLastError();
  cuda::check_cuda(status, "cudaMalloc(", bytes, " bytes)");
  return pointer;
}

// Called from destructors, so it must not throw. At process exit the runtime may already be
// unloaded (cudaErrorCudartUnloading): the driver reclaims the memory then anyway.
void device_free(void* pointer) {
  if (cudaFree(pointer) != cudaSuccess) cudaGetLastError();
}

CachingAllocator& cuda_allocator() {
  // Never destroyed: tensors held in static objects may be freed after main returns.
  static auto* allocator = new CachingAllocator(device_malloc, device_free);
  return *allocator;
}

// Whether a GPU is usable, and if not why, asked once: the answer does not change while the
// process runs, and asking costs a driver call.
struct Availability {
  bool available = false;
  std::string reason;
};
const Availability& availability() {
  static const Availability answer = [] {
    Availability a;
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
      cudaGetLastError();
      a.reason = std::string("cudaGetDeviceCount: ") + cudaGetErrorString(status);
    } else if (count == 0) {
      a.reason = "cudaGetDeviceCount found 0 devices";
    } else {
      a.available = true;
    }
    return a;
  }();
  return answer;
}

// ---- kernels ----

template <class T>
__global__ void fill_kernel(int64_t n, T* out, T value) {
  for (int64_t i = cuda::first_index(); i < n; i += cuda::index_stride()) out[i] = value;
}

// start + step * i, rounded exactly as the CPU does (two roundings, no fused multiply-add), so
// both devices produce the same values.
__global__ void arange_float_kernel(int64_t n, float* out, float start, float step) {
  for (int64_t i = cuda::first_index(); i < n; i += cuda::index_stride())
    out[i] = __fadd_rn(start, __fmul_rn(step, static_cast<float>(i)));
}
__global__ void arange_int_kernel(int64_t n, int32_t* out, float start, float step) {
  for (int64_t i = cuda::first_index(); i < n; i += cuda::index_stride())
    out[i] = static_cast<int32_t>(__fadd_rn(start, __fmul_rn(step, static_cast<float>(i))));
}

// One thread per block of four elements, block j from Philox counter offset + j, exactly like
// the CPU loop. The affine maps use explicitly rounded operations so that no fused multiply-add
// makes a uniform or a dropout mask differ from the CPU's in the last bit.
__global__ void random_kernel(int64_t blocks, int64_t n, float* out, RandomKind kind, float a,
                              float b, uint64_t seed, uint64_t offset) {
  for (int64_t block = cuda::first_index(); block < blocks; block += cuda::index_stride()) {
    const PhiloxWords words = philox4x32(seed, offset + static_cast<uint64_t>(block));
    float values[4];
    if (kind == RandomKind::Normal)
      normal4_from_words(words, values);
    else
      uniform4_from_words(words, values);
    const int64_t first = 4 * block, count = n - first < 4 ? n - first : 4;
    for (int64_t j = 0; j < count; ++j) {
      switch (kind) {
        case RandomKind::Uniform:
          out[first + j] = __fadd_rn(a, __fmul_rn(b - a, values[j]));
          break;
        case RandomKind::Normal:
          out[first + j] = __fadd_rn(a, __fmul_rn(b, values[j]));
          break;
        case RandomKind::Bernoulli:
          out[first + j] = values[j] < a ? b : 0.0f;
          break;
      }
    }
  }
}

template <class In, class Out>
__global__ void cast_kernel(int64_t n, const In* in, Out* out) {
  for (int64_t i = cuda::first_index(); i < n; i += cuda::index_stride())
    out[i] = static_cast<Out>(in[i]);  // float -> int truncates toward 0, as on the CPU
}

}  // namespace

// ---- memory ----

void* CudaBackend::allocate(size_t bytes) { return cuda_allocator().allocate(bytes); }
void CudaBackend::deallocate(void* pointer, size_t bytes) {
  cuda_allocator().deallocate(pointer, bytes);
}

void CudaBackend::copy_from_host(const Tensor& dst, const void* src) {
  if (dst.nbytes() == 0) return;
  cuda::check_cuda(cudaMemcpy(dst.raw_data(), src, dst.nbytes(), cudaMemcpyHostToDevice),
                   "cudaMemcpy host to device (", dst.nbytes(), " bytes)");
}

// cudaMemcpy on the legacy stream waits for every kernel queued before it: the values read are
// final, and an error raised inside an earlier kernel is reported here.
void CudaBackend::copy_to_host(const Tensor& src, void* dst) {
  if (src.nbytes() == 0) return;
  count_host_copy();
  cuda::check_cuda(cudaMemcpy(dst, src.raw_data(), src.nbytes(), cudaMemcpyDeviceToHost),
                   "cudaMemcpy device to host (", src.nbytes(), " bytes)");
  report_range_checks();
}

void CudaBackend::copy(const Tensor& src, const Tensor& dst) {
  if (src.nbytes() == 0) return;
  cuda::check_cuda(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), src.nbytes(),
                                   cudaMemcpyDeviceToDevice, cudaStreamLegacy),
                   "cudaMemcpyAsync device to device (", src.nbytes(), " bytes)");
}

// ---- filling ----

void CudaBackend::fill(const Tensor& t, float value) {
  if (t.dtype() == DType::Float32)
    cuda::launch("fill", t.numel(), fill_kernel<float>, t.device_data<float>(), value);
  else
    cuda::launch("fill", t.numel(), fill_kernel<int32_t>, t.device_data<int32_t>(),
                 static_cast<int32_t>(value));
}

void CudaBackend::arange(const Tensor& t, float start, float step) {
  if (t.dtype() == DType::Float32)
    cuda::launch("arange", t.numel(), arange_float_kernel, t.device_data<float>(), start, step);
  else
    cuda::launch("arange", t.numel(), arange_int_kernel, t.device_data<int32_t>(), start, step);
}

void CudaBackend::synchronize() {
  cuda::check_cuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  report_range_checks();
}

void CudaBackend::random(const Tensor& t, RandomKind kind, float a, float b, uint64_t seed,
                         uint64_t offset) {
  const int64_t n = t.numel();
  cuda::launch("random", (n + 3) / 4, random_kernel, n, t.device_data<float>(), kind, a, b, seed,
               offset);
}

Tensor CudaBackend::cast(const Tensor& x, DType dtype) {
  Tensor out = empty(x.shape(), dtype, Device::CUDA);
  if (dtype == DType::Float32)
    cuda::launch("cast", x.numel(), cast_kernel<int32_t, float>, x.device_data<int32_t>(),
                 out.device_data<float>());
  else
    cuda::launch("cast", x.numel(), cast_kernel<float, int32_t>, x.device_data<float>(),
                 out.device_data<int32_t>());
  return out;
}

// ---- the backend instance and the status queries ----

Backend& cuda_backend() {
  static CudaBackend* backend = [] {
    check(availability().available,
          "device cuda: this build has the CUDA backend, but no usable GPU was found (",
          availability().reason, ")");
    return new CudaBackend();  // never destroyed, like the allocator it hands memory to
  }();
  return *backend;
}

bool cuda_built() { return true; }
bool cuda_available() { return availability().available; }

std::string cuda_device_name() {
  if (!cuda_available()) return "";
  int device = 0;
  cudaDeviceProp properties{};
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaGetDeviceProperties(&properties, device) != cudaSuccess) {
    cudaGetLastError();
    return "";
  }
  return properties.name;
}

CachingAllocator::Stats cuda_allocator_stats() {
  if (!cuda_available()) return {};
  return cuda_allocator().stats();
}

void cuda_release_cache() {
  if (cuda_available()) cuda_allocator().release_cache();
}

void cuda_synchronize() {
  if (!cuda_available()) return;
  cuda::check_cuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  report_range_checks();
}

}  // namespace tg
