// Reductions over dims, with keepdim. Negative dims count from the end; an empty dims list
// means "all dims".
#pragma once

#include <vector>

#include "framework/tensor.h"

namespace tg {

using Dims = std::vector<int64_t>;

Tensor sum(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
// Largest / smallest value; the gradient is shared equally among tied maxima.
Tensor max(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor min(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
// Variance; unbiased divides by n - 1 (Bessel), otherwise by n.
Tensor var(const Tensor& x, const Dims& dims = {}, bool unbiased = true, bool keepdim = false);
// Index of the largest value along dim (Int32, first on ties). Not differentiable.
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);

}  // namespace tg
