// Index arithmetic that every backend needs, host-side: how an input is walked when it is
// broadcast to a larger shape, or read through a permutation of its dims.
#pragma once

#include <vector>

#include "framework/tensor.h"

namespace tg {

// Element strides of in (row-major) as seen from out's shape: 0 where in is broadcast. An input
// of shape [3,1] read as [2,3,4] has strides [0,1,0]: moving along a dim it lacks, or has with
// size 1, does not move through its data.
inline std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out) {
  std::vector<int64_t> strides(out.size(), 0);
  int64_t stride = 1;
  for (size_t k = 0; k < in.size(); ++k) {
    const size_t in_dim = in.size() - 1 - k, out_dim = out.size() - 1 - k;
    strides[out_dim] = in[in_dim] == 1 ? 0 : stride;
    stride *= in[in_dim];
  }
  return strides;
}

// Output dim d of a permutation walks input dim dims[d]: the output's shape, and the input
// stride of a step along each output dim.
struct Permuted {
  Shape shape;
  std::vector<int64_t> strides;
};
inline Permuted permuted(const Shape& in_shape, const std::vector<int64_t>& dims) {
  const size_t rank = dims.size();
  std::vector<int64_t> in_strides(rank);
  int64_t stride = 1;
  for (size_t d = rank; d-- > 0;) {
    in_strides[d] = stride;
    stride *= in_shape[d];
  }
  Permuted out{Shape(rank), std::vector<int64_t>(rank)};
  for (size_t d = 0; d < rank; ++d) {
    out.shape[d] = in_shape[dims[d]];
    out.strides[d] = in_strides[dims[d]];
  }
  return out;
}

// Sizes of a tensor seen as [outer, n, inner] around dimension dim: how kernels that work along
// one dim (reductions, softmax, index_select, narrow) address it.
struct DimSplit {
  int64_t outer = 1, n = 1, inner = 1;
};
inline DimSplit split_at(const Shape& shape, int64_t dim) {
  DimSplit split;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    if (d < dim)
      split.outer *= shape[d];
    else if (d == dim)
      split.n = shape[d];
    else
      split.inner *= shape[d];
  }
  return split;
}

}  // namespace tg
