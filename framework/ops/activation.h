// Activations beyond the elementwise basics, with PyTorch's options: GELU's tanh approximation
// and softplus with beta and threshold. Each is composed of existing kernels and records itself
// as one op with its own derivative, written beside its forward.
#pragma once

#include "framework/tensor.h"

namespace tg {

// PyTorch's gelu(x, approximate=...): None is the exact x * Phi(x) (the op gelu(x)); Tanh is
//   gelu_tanh(x) = x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))),
// the form GPT-2 and BERT were trained with (within 5e-4 of the exact one everywhere).
enum class GeluApproximation { None, Tanh };
Tensor gelu(const Tensor& x, GeluApproximation approximate);

// PyTorch's softplus(x, beta, threshold): a smooth relu,
//   softplus(x) = log(1 + e^(beta x)) / beta,   and x itself where beta x > threshold
// (there the two agree to float precision, and e^(beta x) would overflow). beta > 0.
Tensor softplus(const Tensor& x, float beta = 1.0f, float threshold = 20.0f);

}  // namespace tg
