// What int8 inference (framework/ops/quantized.h) needs below the ops: the row layout, the host
// conversions of a row to int8 and back, and the linear product of the CPU, the one device with
// int8 kernels (backend/cpu/: int8_rows.cpp, cpu_quantized.cpp, the product in int8_gemm.h).
// linear_int8 calls the CPU's product here after checking the device, instead of widening the
// Backend interface that every device implements.
#pragma once

#include <cstdint>

#include "framework/tensor.h"

namespace tg {

// Int8 rows are padded with zeros to a multiple of kInt8RowAlign bytes, so that the vector
// kernels read whole vectors and need no tail loop (zeros add nothing to a dot product).
inline constexpr int64_t kInt8RowAlign = 64;  // bytes: one AVX-512 vector, two AVX2 vectors
// The padded row length of K int8 values.
inline int64_t int8_row_stride(int64_t k) {
  return (k + kInt8RowAlign - 1) / kInt8RowAlign * kInt8RowAlign;
}

// q[0, k) = round(x / scale) with scale = max |x| / 127 (1 for a row of zeros, whose q is all
// zero whatever the scale), q[k, stride) = 0. Returns scale. |q| <= 127 without a clamp:
// |x| <= max |x| makes |x| * 127 / max |x| at most 127 (and a rounding error far below 0.5).
float quantize_row(const float* x, int64_t k, int8_t* q, int64_t stride);
// x[0, k) = q scale.
void dequantize_row(const int8_t* q, float scale, int64_t k, float* x);
// y[0, n) = sums[0, n) * row_scale * column_scales[0, n) + bias[0, n) (no bias when null): an
// int8 product's row rescaled.
void rescale_row(const int32_t* sums, float row_scale, const float* column_scales,
                 const float* bias, int64_t n, float* y);

// y [m, n] = x [m, k] W^T + bias on the CPU, W as int8 values packed four to an int32 element,
// values [n, int8_row_stride(k) / 4], and one scale per row, scale [n]; bias [n] or undefined.
// dynamic: x's rows are quantized too and the product runs in int8 (int8_gemm.h); otherwise W is
// dequantized and the product is sgemm (weight-only). The op has checked everything.
Tensor cpu_linear_int8(const Tensor& x, const Tensor& values, const Tensor& scale,
                       const Tensor& bias, bool dynamic);

}  // namespace tg
