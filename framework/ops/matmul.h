// Matrix products through the backend's gemm.
#pragma once

#include "framework/tensor.h"

namespace tg {

// op(a) @ op(b), where op transposes the last two dims when its flag is set.
// a: [..., m, k], b: [..., k, n] (after op); 1-D is not accepted, use unsqueeze. Leading dims
// broadcast (NumPy rules). A 2-D b against a batched a is one big gemm, not a loop. The
// transpose flags go straight to gemm: no transposed copy is ever made.
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);

}  // namespace tg
