#include "framework/shape.h"

#include <algorithm>
#include <ostream>

#include "framework/error.h"

namespace tg {

// "[2,3]": a shape's sizes, or any list of sizes or dims (which may be longer than a Shape holds).
static std::string sizes_text(const int64_t* first, const int64_t* last) {
  std::string text = "[";
  for (const int64_t* size = first; size != last; ++size) {
    if (size != first) text += ',';
    text += std::to_string(*size);
  }
  return text + "]";
}

std::string to_string(const Shape& shape) { return sizes_text(shape.begin(), shape.end()); }

std::ostream& operator<<(std::ostream& out, const Shape& shape) { return out << to_string(shape); }
std::ostream& operator<<(std::ostream& out, const std::vector<int64_t>& sizes) {
  return out << sizes_text(sizes.data(), sizes.data() + sizes.size());
}

void Shape::fail_too_many(size_t count) {
  fail("shape: a tensor has at most ", kMaxDims, " dimensions, this shape would have ", count);
}

void Shape::resize(size_t count, int64_t value) {
  if (count > kMaxDims) fail_too_many(count);
  for (size_t i = count_; i < count; ++i) sizes_[i] = value;
  count_ = count;
}

Shape::iterator Shape::insert(const_iterator at, int64_t size) {
  const auto i = static_cast<size_t>(at - begin());
  if (count_ == kMaxDims) fail_too_many(count_ + 1);
  std::copy_backward(begin() + i, end(), end() + 1);
  sizes_[i] = size;
  ++count_;
  return begin() + i;
}

Shape::iterator Shape::erase(const_iterator first, const_iterator last) {
  const auto i = static_cast<size_t>(first - begin()), removed = static_cast<size_t>(last - first);
  std::copy(begin() + i + removed, end(), begin() + i);
  count_ -= removed;
  return begin() + i;
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
