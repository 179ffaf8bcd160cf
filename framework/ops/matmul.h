// Matrix products through the backend's gemm.
#pragma once

#include "framework/tensor.h"

namespace tg {

// op(a) @ op(b), where op transposes the last two dims when its flag is set.
// a: [..., m, k], b: [..., k, n] (after op); 1-D is not accepted, use unsqueeze. Leading dims
// broadcast (NumPy rules). A 2-D b against a batched a is one big gemm, not a loop. The
// transpose flags go straight to gemm: no transposed copy is ever made.
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);

// x W^T + bias, a linear layer's product, in one gemm: x [..., in], weight [out, in], bias
// [out] (one per output feature) or [..., out] (one per output element; the LSTM adds its
// precomputed input gates this way), or undefined. y starts as the bias and the gemm adds
// x W^T to it (beta = 1), so y is written once instead of zeroed, multiplied into and added to.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {});

}  // namespace tg
