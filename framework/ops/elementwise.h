// Elementwise ops with NumPy broadcasting: arithmetic, comparisons (which give Int32 0/1 masks
// and carry no gradient) and selection (where, masked_fill). The unary ops (exp, tanh, relu...)
// are in unary.h, included here.
#pragma once

#include "framework/ops/unary.h"
#include "framework/tensor.h"

namespace tg {

Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);  // gradient goes to the larger (split on ties)
Tensor minimum(const Tensor& a, const Tensor& b);

// Comparisons: Int32 0/1, broadcasting, never recorded.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);

// cond != 0 ? a : b, broadcasting all three. cond is Int32 (or Float32, nonzero = true).
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// x with value wherever mask != 0.
Tensor masked_fill(const Tensor& x, const Tensor& mask, float value);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& x);
// A float on either side becomes a 0-dim tensor of the other side's dtype and device.
Tensor operator+(const Tensor& a, float b);
Tensor operator-(const Tensor& a, float b);
Tensor operator*(const Tensor& a, float b);
Tensor operator/(const Tensor& a, float b);
Tensor operator+(float a, const Tensor& b);
Tensor operator-(float a, const Tensor& b);
Tensor operator*(float a, const Tensor& b);
Tensor operator/(float a, const Tensor& b);

}  // namespace tg
