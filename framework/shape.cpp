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

int64_t numel_of(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
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
