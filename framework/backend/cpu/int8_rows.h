// One row of floats to int8 and back, symmetric with one scale per row (framework/ops/quantized.h
// has the math): the same rounding for a weight's rows, quantized once, and for activation rows,
// quantized at every product.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace tg {

// q[0, k) = clamp(round(x / scale), -127, 127) with scale = max |x| / 127 (1 for a row of zeros,
// whose q is all zero whatever the scale), q[k, stride) = 0. Returns scale.
inline float quantize_row(const float* x, int64_t k, int8_t* q, int64_t stride) {
  float max_abs = 0;
  for (int64_t i = 0; i < k; ++i) max_abs = std::max(max_abs, std::abs(x[i]));
  const float scale = max_abs > 0 ? max_abs / 127 : 1.0f;
  for (int64_t i = 0; i < k; ++i)
    q[i] = static_cast<int8_t>(std::clamp(std::nearbyint(x[i] / scale), -127.0f, 127.0f));
  std::fill(q + k, q + stride, int8_t{0});
  return scale;
}

// x[0, k) = q scale.
inline void dequantize_row(const int8_t* q, float scale, int64_t k, float* x) {
  for (int64_t i = 0; i < k; ++i) x[i] = static_cast<float>(q[i]) * scale;
}

}  // namespace tg
