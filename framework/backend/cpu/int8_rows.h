// One row of floats to int8 and back, symmetric with one scale per row (framework/ops/quantized.h
// has the math): the same rounding for a weight's rows, quantized once, and for activation rows,
// quantized at every product. Vector code chosen at run time (TG_VECTOR_KERNEL, int8_rows.cpp).
#pragma once

#include <cstdint>

namespace tg {

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

}  // namespace tg
