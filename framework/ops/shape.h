// Shape ops. reshape/flatten/squeeze/unsqueeze return views that share storage; permute and
// transpose return contiguous copies (data is always row-major); narrow/select/concat/stack/
// split copy too, except a narrow along dim 0, which is a view.
#pragma once

#include <vector>

#include "framework/tensor.h"

namespace tg {

Tensor reshape(const Tensor& x, const Shape& shape);  // one dim may be -1 (inferred)
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor squeeze(const Tensor& x, int64_t dim);  // dim must have size 1
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
Tensor expand(const Tensor& x, const Shape& shape);  // broadcast copy to shape

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
Tensor select(const Tensor& x, int64_t dim, int64_t index);  // narrow + squeeze
Tensor concat(const std::vector<Tensor>& xs, int64_t dim);
Tensor stack(const std::vector<Tensor>& xs, int64_t dim);
// split, chunk and unbind record one op for all their pieces, so that backward assembles the
// input's gradient once (a loop of narrows would build a full-size gradient per piece).
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim);
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim);
// The slices of x along dim, without that dim: unbind(x [T, B, H], 0) gives T tensors [B, H].
std::vector<Tensor> unbind(const Tensor& x, int64_t dim);

}  // namespace tg
