// Int8 inference on the CPU (framework/backend/quantized_kernels.h): the linear product on an int8
// weight, weight-only through OpenBLAS or dynamic through the int8 kernels of int8_gemm.h.

#include <cblas.h>

#include "framework/backend/cpu/cpu_backend.h"
#include "framework/backend/cpu/int8_gemm.h"
#include "framework/backend/quantized_kernels.h"

namespace tg {

namespace {

const int8_t* int8_values(const Tensor& packed) {
  return reinterpret_cast<const int8_t*>(packed.data<int32_t>());
}

// y starts as the bias on every row (or zeros), so that the products add to it.
void fill_with_bias(float* y, int64_t m, int64_t n, const Tensor& bias) {
  const float* b = bias.defined() ? bias.data<float>() : nullptr;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) y[i * n + j] = b ? b[j] : 0.0f;
}

}  // namespace

Tensor cpu_linear_int8(const Tensor& x, const Tensor& values, const Tensor& scale,
                       const Tensor& bias, bool dynamic) {
  const int64_t m = x.size(0), k = x.size(1), n = scale.size(0), stride = values.size(1) * 4;
  const int8_t* w = int8_values(values);
  const float* w_scale = scale.data<float>();
  Tensor y = empty({m, n});
  float* py = y.data<float>();
  if (!dynamic || k == 0) fill_with_bias(py, m, n, bias);
  if (m == 0 || n == 0 || k == 0) return y;
  if (!dynamic) {
    // Weight-only: W = q scale_n as floats, then y += x W^T in one sgemm.
    Tensor weight = empty({n, k});
    float* pw = weight.data<float>();
#pragma omp parallel for if (n * k >= kParallelThreshold)
    for (int64_t j = 0; j < n; ++j) dequantize_row(w + j * stride, w_scale[j], k, pw + j * k);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(m), static_cast<int>(n),
                static_cast<int>(k), 1.0f, x.data<float>(), static_cast<int>(k), pw,
                static_cast<int>(k), 1.0f, py, static_cast<int>(n));
    return y;
  }
  // Dynamic: qx[i] = round(x[i] / s_i), then y[i, j] = s_i scale_j sum_k qx[i, k] q[j, k] + b[j].
  Tensor x_values = empty({m, stride / 4}, DType::Int32);
  auto* qx = reinterpret_cast<int8_t*>(x_values.data<int32_t>());
  Tensor x_scale = empty({m});
  float* s = x_scale.data<float>();
  const float* px = x.data<float>();
#pragma omp parallel for if (m * k >= kParallelThreshold)
  for (int64_t i = 0; i < m; ++i) s[i] = quantize_row(px + i * k, k, qx + i * stride, stride);
  Tensor sums = empty({m, n}, DType::Int32);
  int32_t* acc = sums.data<int32_t>();
  int8_gemm_nt(m, n, stride, qx, w, acc);
  const float* b = bias.defined() ? bias.data<float>() : nullptr;
#pragma omp parallel for if (m * n >= kParallelThreshold)
  for (int64_t i = 0; i < m; ++i) rescale_row(acc + i * n, s[i], w_scale, b, n, py + i * n);
  return y;
}

}  // namespace tg
