#include "framework/shape.h"

#include <algorithm>
#include <ostream>

#include "framework/error.h"

namespace tg {

std::string to_string(const Shape& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ',';
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

std::ostream& operator<<(std::ostream& out, const std::vector<int64_t>& shape) {
  return out << to_string(shape);
}

// Every size computed from a shape (the element count, each stride, the byte count) is at most
// the product of its nonzero dimensions; refusing shapes where that product passes
// kMaxElements keeps them all far inside int64 and size_t. A zero dimension does not excuse
// the others: [0, 2^40, 2^40] would still overflow its strides.
int64_t numel_of(const Shape& shape, const char* op) {
  int64_t nonzero_product = 1;
  bool has_zero = false;
  for (int64_t d : shape) {
    if (d == 0) {
      has_zero = true;
      continue;
    }
    const bool overflows = __builtin_mul_overflow(nonzero_product, d, &nonzero_product);
    if (overflows || nonzero_product > kMaxElements || nonzero_product < -kMaxElements)
      fail(op, ": shape ", shape,
           " has more than 2^60 elements (its sizes, strides and byte "
           "counts would overflow)");
  }
  return has_zero ? 0 : nonzero_product;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  Shape out(std::max(a.size(), b.size()));
  for (size_t k = 0; k < out.size(); ++k) {
    const int64_t da = k < a.size() ? a[a.size() - 1 - k] : 1;
    const int64_t db = k < b.size() ? b[b.size() - 1 - k] : 1;
    check(da == db || da == 1 || db == 1, op, ": shapes ", a, " and ", b,
          " cannot be broadcast together");
    out[out.size() - 1 - k] = da == 1 ? db : da;
  }
  return out;
}

int64_t normalize_dim(int64_t dim, int64_t ndim, const char* op) {
  const int64_t rank = std::max<int64_t>(ndim, 1);  // a 0-dim tensor accepts dim 0 / -1
  check(dim >= -rank && dim < rank, op, ": dim ", dim, " is out of range for a tensor with ", ndim,
        " dims");
  return dim < 0 ? dim + rank : dim;
}

}  // namespace tg
