// Walking an output shape while reading inputs through NumPy broadcasting.
//
// An input of shape [3,1] read as [2,3,4] has broadcast strides [0,1,0]: moving along a dim
// it lacks, or has with size 1, does not move through its data.
#pragma once

#include <vector>

#include "framework/tensor.h"

namespace tg {

// Element strides of in (row-major) as seen from out's shape: 0 where in is broadcast.
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

// Offset into an input (given its broadcast strides) of the first element of output row `row`,
// where a row is the last dim of out.
inline int64_t row_offset(int64_t row, const Shape& out, const std::vector<int64_t>& strides) {
  int64_t offset = 0;
  for (size_t d = out.size() - 1; d-- > 0;) {
    const int64_t index = row % out[d];
    row /= out[d];
    offset += index * strides[d];
  }
  return offset;
}

}  // namespace tg
