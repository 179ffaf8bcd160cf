// Shapes and the rules on them every op shares: element counts, broadcasting, negative dims.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tg {

using Shape = std::vector<int64_t>;

std::string to_string(const Shape& shape);  // "[2,3]"
// The number of elements of a shape. Throws tg::Error past kMaxElements (the product of the
// nonzero dimensions), so that no element count, stride or byte count can overflow.
constexpr int64_t kMaxElements = int64_t{1} << 60;
int64_t numel_of(const Shape& shape, const char* op = "numel");
// The shape a and b broadcast to (NumPy rules: align from the right, sizes equal or 1), or a
// tg::Error naming op and both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// dim in [-ndim, ndim) -> [0, ndim), or tg::Error naming op. A 0-dim tensor accepts 0 and -1.
int64_t normalize_dim(int64_t dim, int64_t ndim, const char* op);

}  // namespace tg
