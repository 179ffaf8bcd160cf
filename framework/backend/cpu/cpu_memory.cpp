// CPU memory, filling, random numbers and casts.
#include <cstdlib>
#include <cstring>

#include "framework/backend/cpu/cpu_backend.h"
#include "framework/backend/host_copies.h"
#include "framework/random.h"

namespace tg {

static void* aligned_malloc(size_t bytes) {
  void* pointer = std::aligned_alloc(64, bytes);  // bytes is a multiple of 512 (a segment)
  if (pointer == nullptr) fail("allocate: out of host memory (", bytes, " bytes)");
  return pointer;
}
static void plain_free(void* pointer) { std::free(pointer); }

static CachingAllocator& cpu_allocator() {
  // Never destroyed: tensors held in static objects may be freed after main returns.
  static auto* allocator = new CachingAllocator(aligned_malloc, plain_free);
  return *allocator;
}

CachingAllocator::Stats cpu_allocator_stats() { return cpu_allocator().stats(); }
void cpu_release_cache() { cpu_allocator().release_cache(); }
void cpu_reset_peaks() { cpu_allocator().reset_peaks(); }

void* CpuBackend::allocate(size_t bytes) { return cpu_allocator().allocate(bytes); }
void CpuBackend::deallocate(void* pointer, size_t bytes) {
  cpu_allocator().deallocate(pointer, bytes);
}
void CpuBackend::copy_from_host(const Tensor& dst, const void* src) {
  std::memcpy(dst.raw_data(), src, dst.nbytes());
}
void CpuBackend::copy_to_host(const Tensor& src, void* dst) {
  count_host_copy();
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

// The draw is made a chunk of blocks at a time: first the Philox words of the whole chunk (a
// loop of independent counters, which the compiler vectorises four counters at a time), then the
// floats from the words. Block j of the tensor uses counter offset + j (framework/random.h).
void CpuBackend::random(const Tensor& t, RandomKind kind, float a, float b, uint64_t seed,
                        uint64_t offset) {
  constexpr int64_t kChunk = 64;  // blocks, i.e. 256 elements
  const int64_t n = t.numel();
  const int64_t blocks = (n + 3) / 4;
  float* out = t.data<float>();
#pragma omp parallel for if (n >= kParallelThreshold / 2)
  for (int64_t first_block = 0; first_block < blocks; first_block += kChunk) {
    const int64_t count = std::min(kChunk, blocks - first_block);
    PhiloxWords words[kChunk];
    for (int64_t j = 0; j < count; ++j)
      words[j] = philox4x32(seed, offset + static_cast<uint64_t>(first_block + j));
    float values[4 * kChunk];
    for (int64_t j = 0; j < count; ++j) {
      if (kind == RandomKind::Normal)
        normal4_from_words(words[j], values + 4 * j);
      else
        uniform4_from_words(words[j], values + 4 * j);
    }
    const int64_t first = 4 * first_block, length = std::min(4 * count, n - first);
    float* chunk_out = out + first;
    switch (kind) {
      case RandomKind::Uniform:
        for (int64_t k = 0; k < length; ++k) chunk_out[k] = a + (b - a) * values[k];
        break;
      case RandomKind::Normal:
        for (int64_t k = 0; k < length; ++k) chunk_out[k] = a + b * values[k];
        break;
      case RandomKind::Bernoulli:
        for (int64_t k = 0; k < length; ++k) chunk_out[k] = values[k] < a ? b : 0.0f;
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

}  // namespace tg
