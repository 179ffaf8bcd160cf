#include "framework/ops/reduce.h"

#include <algorithm>

#include "framework/backend/backend.h"
#include "framework/ops/checks.h"
#include "framework/ops/elementwise.h"
#include "framework/ops/shape.h"
#include "framework/tape.h"

namespace tg {

// The dims to reduce, normalised, sorted and unique; {} means all.
static Dims reduced_dims(const Dims& dims, int64_t ndim, const char* op) {
  Dims out;
  if (dims.empty()) {
    for (int64_t d = 0; d < ndim; ++d) out.push_back(d);
    return out;
  }
  for (int64_t d : dims) out.push_back(normalize_dim(d, ndim, op));
  std::sort(out.begin(), out.end());
  check(std::adjacent_find(out.begin(), out.end()) == out.end(), op, ": a dim is repeated");
  return out;
}

static Shape kept_shape(Shape shape, const Dims& dims) {
  for (int64_t d : dims) shape[d] = 1;
  return shape;
}

static Shape dropped_shape(const Shape& shape, const Dims& dims) {
  Shape out;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d)
    if (!std::binary_search(dims.begin(), dims.end(), d)) out.push_back(shape[d]);
  return out;
}

// The backend reduces one dim at a time, keeping it with size 1.
static Tensor reduce_kept(ReduceOp op, const Tensor& x, const Dims& dims) {
  Tensor y = x;
  for (int64_t d : dims)
    if (x.shape()[d] != 1 || op != ReduceOp::Sum) y = backend_of(y).reduce(op, y, d);
  return y;
}

static Tensor finish(const Tensor& kept, const Shape& x_shape, const Dims& dims, bool keepdim) {
  return keepdim ? kept : make_view(kept, dropped_shape(x_shape, dims));
}

// d(sum)/dx_i = 1: the gradient is gy broadcast back over the reduced dims.
Tensor sum(const Tensor& x, const Dims& dims_in, bool keepdim) {
  check_float(x, "sum");
  const Dims dims = reduced_dims(dims_in, x.dim(), "sum");
  const Shape x_shape = x.shape();
  Tensor kept = reduce_kept(ReduceOp::Sum, x, dims);
  if (kept.id() == x.id()) kept = x.clone();  // nothing reduced: still a new tensor
  Tensor y = finish(kept, x_shape, dims, keepdim);
  return record("sum", {x}, y, {}, [x_shape, dims](const Saved&, const Tensor& gy) -> Grads {
    return {expand(make_view(gy, kept_shape(x_shape, dims)), x_shape)};
  });
}

Tensor mean(const Tensor& x, const Dims& dims_in, bool keepdim) {
  check_float(x, "mean");
  const Dims dims = reduced_dims(dims_in, x.dim(), "mean");
  int64_t count = 1;
  for (int64_t d : dims) count *= x.shape()[d];
  check(count > 0, "mean: reducing over an empty dim of ", x.shape());
  return sum(x, dims, keepdim) * (1.0f / static_cast<float>(count));
}

// The gradient of max goes to the elements equal to the max, split equally among ties:
// gx = gy * [x == max] / count(x == max).
static Tensor extremum(const char* name, ReduceOp op, const Tensor& x, const Dims& dims_in,
                       bool keepdim) {
  check_float(x, name);
  check(x.numel() > 0, name, ": reducing an empty tensor ", x.shape());
  const Dims dims = reduced_dims(dims_in, x.dim(), name);
  const Shape x_shape = x.shape();
  const Tensor kept = reduce_kept(op, x, dims);
  Tensor y = finish(kept.id() == x.id() ? x.clone() : kept, x_shape, dims, keepdim);
  return record(name, {x}, y, {x, kept},
                [x_shape, dims](const Saved& s, const Tensor& gy) -> Grads {
                  const Tensor winners = eq(s[0], s[1]).to(DType::Float32);
                  const Tensor ties = sum(winners, dims, /*keepdim=*/true);
                  return {winners * (make_view(gy, kept_shape(x_shape, dims)) / ties)};
                });
}

Tensor max(const Tensor& x, const Dims& dims, bool keepdim) {
  return extremum("max", ReduceOp::Max, x, dims, keepdim);
}
Tensor min(const Tensor& x, const Dims& dims, bool keepdim) {
  return extremum("min", ReduceOp::Min, x, dims, keepdim);
}

// var = sum((x - mean)^2) / (n - 1) if unbiased, else / n. Composed, so autograd derives it.
Tensor var(const Tensor& x, const Dims& dims_in, bool unbiased, bool keepdim) {
  check_float(x, "var");
  const Dims dims = reduced_dims(dims_in, x.dim(), "var");
  int64_t count = 1;
  for (int64_t d : dims) count *= x.shape()[d];
  const int64_t divisor = unbiased ? count - 1 : count;
  check(divisor > 0, "var: needs at least ", unbiased ? 2 : 1, " elements per reduction, got ",
        count);
  const Tensor centered = x - mean(x, dims, /*keepdim=*/true);
  return sum(centered * centered, dims, keepdim) * (1.0f / static_cast<float>(divisor));
}

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  check_float(x, "argmax");
  const int64_t d = normalize_dim(dim, x.dim(), "argmax");
  check(x.dim() > 0 && x.shape()[d] > 0, "argmax: empty dim in ", x.shape());
  const Tensor kept = backend_of(x).argmax(x, d);
  return keepdim ? kept : make_view(kept, dropped_shape(x.shape(), {d}));
}

}  // namespace tg
