// The banded products of local attention on the GPU: one thread per output element, each
// looping over the d features (band_dot) or the 2w+1 band entries (band_weighted_sum). The math and
// the band's indexing are those of backend/cpu/cpu_band.cpp: entry t of row i is position j = i - w
// + t, and entries with j outside [0, L) are 0 and never read.
#include "framework/backend/cuda/cuda_backend.h"
#include "framework/backend/cuda/cuda_kernels.cuh"

namespace tg {
namespace {

// out[r, t] = a[r] . b[n, j], r = n L + i; n elements = rows * band.
__global__ void band_dot_kernel(int64_t n, int64_t len, int64_t window, int64_t d, const float* a,
                                const float* b, float* out) {
  const int64_t band = 2 * window + 1;
  for (int64_t k = cuda::first_index(); k < n; k += cuda::index_stride()) {
    const int64_t r = k / band, t = k % band, i = r % len, j = i - window + t;
    float sum = 0.0f;
    if (j >= 0 && j < len) {
      const float* a_row = a + r * d;
      const float* b_row = b + (r - i + j) * d;
      for (int64_t c = 0; c < d; ++c) sum += a_row[c] * b_row[c];
    }
    out[k] = sum;
  }
}

// out[r, c] = sum_t p[r, t] v[n, j, c]; n elements = rows * d.
__global__ void band_weighted_sum_kernel(int64_t n, int64_t len, int64_t window, int64_t d,
                                         const float* p, const float* v, float* out) {
  const int64_t band = 2 * window + 1;
  for (int64_t k = cuda::first_index(); k < n; k += cuda::index_stride()) {
    const int64_t r = k / d, c = k % d, i = r % len;
    const float* p_row = p + r * band;
    float sum = 0.0f;
    for (int64_t t = 0; t < band; ++t) {
      const int64_t j = i - window + t;
      if (j >= 0 && j < len) sum += p_row[t] * v[(r - i + j) * d + c];
    }
    out[k] = sum;
  }
}

// out[r, t] = p[n, i', 2w - t] with i' = j - w + t, r = n L + j.
__global__ void band_transpose_kernel(int64_t n, int64_t len, int64_t window, const float* p,
                                      float* out) {
  const int64_t band = 2 * window + 1;
  for (int64_t k = cuda::first_index(); k < n; k += cuda::index_stride()) {
    const int64_t r = k / band, t = k % band, j = r % len, i = j - window + t;
    out[k] = i >= 0 && i < len ? p[(r - j + i) * band + 2 * window - t] : 0.0f;
  }
}

}  // namespace

Tensor CudaBackend::band_dot(const Tensor& a, const Tensor& b, int64_t window) {
  Shape out_shape = a.shape();
  out_shape.back() = 2 * window + 1;
  Tensor out = empty(out_shape, DType::Float32, Device::CUDA);
  cuda::launch("band_dot", out.numel(), band_dot_kernel, a.size(-2), window, a.size(-1),
               a.device_data<float>(), b.device_data<float>(), out.device_data<float>());
  return out;
}

Tensor CudaBackend::band_weighted_sum(const Tensor& p, const Tensor& v, int64_t window) {
  Tensor out = empty(v.shape(), DType::Float32, Device::CUDA);
  cuda::launch("band_weighted_sum", out.numel(), band_weighted_sum_kernel, v.size(-2), window,
               v.size(-1), p.device_data<float>(), v.device_data<float>(),
               out.device_data<float>());
  return out;
}

Tensor CudaBackend::band_transpose(const Tensor& p, int64_t window) {
  Tensor out = empty(p.shape(), DType::Float32, Device::CUDA);
  cuda::launch("band_transpose", out.numel(), band_transpose_kernel, p.size(-2), window,
               p.device_data<float>(), out.device_data<float>());
  return out;
}

}  // namespace tg
