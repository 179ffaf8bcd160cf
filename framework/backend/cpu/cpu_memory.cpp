// CPU memory, filling, random numbers and casts; the backend registry and thread count.
#include <omp.h>

#include <cblas.h>

#include <cstdlib>
#include <cstring>

#include "framework/backend/cpu/cpu_backend.h"
#include "framework/random.h"

namespace tg {

static void* aligned_malloc(size_t bytes) {
  void* pointer = std::aligned_alloc(64, bytes);  // bytes is already a multiple of 64
  if (pointer == nullptr) fail("allocate: out of host memory (", bytes, " bytes)");
  return pointer;
}
static void plain_free(void* pointer) { std::free(pointer); }

static CachingAllocator& cpu_allocator() {
  // Never destroyed: tensors held in static objects may be freed after main returns.
  static auto* allocator = new CachingAllocator(aligned_malloc, plain_free);
  return *allocator;
}

void* CpuBackend::allocate(size_t bytes) { return cpu_allocator().allocate(bytes); }
void CpuBackend::deallocate(void* pointer, size_t bytes) {
  cpu_allocator().deallocate(pointer, bytes);
}
void CpuBackend::copy_from_host(const Tensor& dst, const void* src) {
  std::memcpy(dst.raw_data(), src, dst.nbytes());
}
void CpuBackend::copy_to_host(const Tensor& src, void* dst) {
  std::memcpy(dst, src.raw_data(), src.nbytes());
}
void CpuBackend::copy(const Tensor& src, const Tensor& dst) {
  std::memcpy(dst.raw_data(), src.raw_data(), src.nbytes());
}

void CpuBackend::fill(const Tensor& t, float value) {
  const int64_t n = t.numel();
  if (t.dtype() == DType::Float32) {
    float* out = t.data<float>();
#pragma omp parallel for if (n >= kParallelThreshold)
    for (int64_t i = 0; i < n; ++i) out[i] = value;
  } else {
    int32_t* out = t.data<int32_t>();
    const auto v = static_cast<int32_t>(value);
#pragma omp parallel for if (n >= kParallelThreshold)
    for (int64_t i = 0; i < n; ++i) out[i] = v;
  }
}

void CpuBackend::arange(const Tensor& t, float start, float step) {
  const int64_t n = t.numel();
  if (t.dtype() == DType::Float32) {
    float* out = t.data<float>();
    for (int64_t i = 0; i < n; ++i) out[i] = start + step * static_cast<float>(i);
  } else {
    int32_t* out = t.data<int32_t>();
    for (int64_t i = 0; i < n; ++i)
      out[i] = static_cast<int32_t>(start + step * static_cast<float>(i));
  }
}

void CpuBackend::random(const Tensor& t, RandomKind kind, float a, float b, uint64_t seed,
                        uint64_t offset) {
  const int64_t n = t.numel();
  float* out = t.data<float>();
#pragma omp parallel for if (n >= kParallelThreshold / 8)
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t counter = offset + static_cast<uint64_t>(i);
    switch (kind) {
      case RandomKind::Uniform:
        out[i] = a + (b - a) * philox_uniform(seed, counter);
        break;
      case RandomKind::Normal:
        out[i] = a + b * philox_normal(seed, counter);
        break;
      case RandomKind::Bernoulli:
        out[i] = philox_uniform(seed, counter) < a ? 1.0f : 0.0f;
        break;
    }
  }
}

Tensor CpuBackend::cast(const Tensor& x, DType dtype) {
  Tensor out = empty(x.shape(), dtype, Device::CPU);
  const int64_t n = x.numel();
  if (dtype == DType::Float32) {
    const int32_t* in = x.data<int32_t>();
    float* o = out.data<float>();
    for (int64_t i = 0; i < n; ++i) o[i] = static_cast<float>(in[i]);
  } else {
    const float* in = x.data<float>();
    int32_t* o = out.data<int32_t>();
    for (int64_t i = 0; i < n; ++i) o[i] = static_cast<int32_t>(in[i]);  // truncates toward 0
  }
  return out;
}

// ---- registry and threads ----

Backend& cuda_backend();  // defined in backend/cuda when built with CUDA, else a stub

Backend& backend_for(Device device) {
  static auto* cpu = new CpuBackend();
  if (device == Device::CPU) return *cpu;
  return cuda_backend();
}

void set_num_threads(int threads) {
  check(threads >= 1, "set_num_threads: need at least 1 thread, got ", threads);
  omp_set_num_threads(threads);
  openblas_set_num_threads(threads);
}

int num_threads() { return omp_get_max_threads(); }

}  // namespace tg
