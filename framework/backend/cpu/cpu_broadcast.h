// Walking an output shape row by row while reading inputs through broadcast strides
// (framework/backend/strides.h).
#pragma once

#include <vector>

#include "framework/backend/strides.h"
#include "framework/tensor.h"

namespace tg {

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
