// Unary ops: y = f(x) elementwise, float32. Each one's forward, derivative and what its backward
// keeps are side by side in unary.cpp.
#pragma once

#include "framework/tensor.h"

namespace tg {

Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor pow(const Tensor& x, float exponent);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor gelu(const Tensor& x);  // exact: x * Phi(x), Phi the standard normal CDF
Tensor abs(const Tensor& x);
Tensor clamp(const Tensor& x, float low, float high);

}  // namespace tg
