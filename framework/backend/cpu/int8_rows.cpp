#include "framework/backend/quantized_kernels.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "framework/backend/cpu/cpu_vector.h"

namespace tg {

// max |x| on the bit patterns: clearing the sign bit gives |x|, and non-negative floats order as
// their bits do as unsigned integers, whose max the compiler vectorises (a float max it would
// not, without -ffast-math's leave to ignore NaN and -0).
TG_VECTOR_KERNEL float quantize_row(const float* x, int64_t k, int8_t* q, int64_t stride) {
  uint32_t max_bits = 0;
  for (int64_t i = 0; i < k; ++i)
    max_bits = std::max(max_bits, std::bit_cast<uint32_t>(x[i]) & 0x7fffffffu);
  const float max_abs = std::bit_cast<float>(max_bits);
  const float scale = max_abs > 0 ? max_abs / 127 : 1.0f;
  const float inverse = max_abs > 0 ? 127 / max_abs : 0.0f;
  for (int64_t i = 0; i < k; ++i) q[i] = static_cast<int8_t>(std::nearbyint(x[i] * inverse));
  std::fill(q + k, q + stride, int8_t{0});
  return scale;
}

TG_VECTOR_KERNEL void dequantize_row(const int8_t* q, float scale, int64_t k, float* x) {
  for (int64_t i = 0; i < k; ++i) x[i] = static_cast<float>(q[i]) * scale;
}

TG_VECTOR_KERNEL void rescale_row(const int32_t* sums, float row_scale, const float* column_scales,
                                  const float* bias, int64_t n, float* y) {
  if (bias) {
    for (int64_t j = 0; j < n; ++j)
      y[j] = static_cast<float>(sums[j]) * (row_scale * column_scales[j]) + bias[j];
  } else {
    for (int64_t j = 0; j < n; ++j)
      y[j] = static_cast<float>(sums[j]) * (row_scale * column_scales[j]);
  }
}

}  // namespace tg
