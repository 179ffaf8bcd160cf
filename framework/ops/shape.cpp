#include "framework/ops/shape.h"

#include <algorithm>

#include "framework/backend/backend.h"
#include "framework/ops/checks.h"
#include "framework/ops/reduce.h"
#include "framework/tape.h"

namespace tg {

// ---- views: same storage, another shape ----

static Shape resolve_shape(const Shape& wanted, int64_t numel, const Shape& from) {
  Shape shape = wanted;
  int64_t known = 1, inferred = -1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == -1) {
      check(inferred < 0, "reshape: more than one -1 in ", wanted);
      inferred = static_cast<int64_t>(d);
    } else {
      check(shape[d] >= 0, "reshape: negative size in ", wanted);
      check(!__builtin_mul_overflow(known, shape[d], &known), "reshape: cannot view ", from, " as ",
            wanted, ": the sizes' product overflows");
    }
  }
  if (inferred >= 0) {
    check(known > 0 && numel % known == 0, "reshape: cannot view ", from, " as ", wanted);
    shape[inferred] = numel / known;
  }
  const int64_t wanted_numel = numel_of(shape, "reshape");
  check(wanted_numel == numel, "reshape: cannot view ", from, " (", numel, " elements) as ", wanted,
        " (", wanted_numel, " elements)");
  return shape;
}

Tensor reshape(const Tensor& x, const Shape& wanted) {
  check_defined(x, "reshape");
  const Shape from = x.shape();
  const Tensor y = make_view(x, resolve_shape(wanted, x.numel(), from));
  return record("reshape", {x}, y, {},
                [from](const Saved&, const Tensor& gy) -> Grads { return {make_view(gy, from)}; });
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  check_defined(x, "flatten");
  if (x.dim() == 0) return reshape(x, {1});
  const int64_t start = normalize_dim(start_dim, x.dim(), "flatten");
  const int64_t end = normalize_dim(end_dim, x.dim(), "flatten");
  check(start <= end, "flatten: start_dim ", start_dim, " comes after end_dim ", end_dim);
  Shape shape(x.shape().begin(), x.shape().begin() + start);
  int64_t merged = 1;
  for (int64_t d = start; d <= end; ++d) merged *= x.shape()[d];
  shape.push_back(merged);
  shape.insert(shape.end(), x.shape().begin() + end + 1, x.shape().end());
  return reshape(x, shape);
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  check_defined(x, "squeeze");
  const int64_t d = normalize_dim(dim, x.dim(), "squeeze");
  check(x.dim() > 0 && x.shape()[d] == 1, "squeeze: dim ", dim, " of ", x.shape(), " has size ",
        x.dim() > 0 ? x.shape()[d] : 0, ", expected 1");
  Shape shape = x.shape();
  shape.erase(shape.begin() + d);
  return reshape(x, shape);
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  check_defined(x, "unsqueeze");
  const int64_t d = normalize_dim(dim, x.dim() + 1, "unsqueeze");
  Shape shape = x.shape();
  shape.insert(shape.begin() + d, 1);
  return reshape(x, shape);
}

// ---- copies ----

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  check_defined(x, "permute");
  check(static_cast<int64_t>(dims.size()) == x.dim(), "permute: got ", dims.size(),
        " dims for a tensor of shape ", x.shape());
  std::vector<int64_t> order, inverse(dims.size());
  for (int64_t d : dims) order.push_back(normalize_dim(d, x.dim(), "permute"));
  for (size_t i = 0; i < order.size(); ++i) inverse[order[i]] = static_cast<int64_t>(i);
  std::vector<int64_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  check(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end(),
        "permute: a dim is repeated");
  const Tensor y = backend_of(x).permute(x, order);
  // The inverse permutation takes the gradient back to x's layout.
  return record("permute", {x}, y, {}, [inverse](const Saved&, const Tensor& gy) -> Grads {
    return {backend_of(gy).permute(gy, inverse)};
  });
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  check_defined(x, "transpose");
  std::vector<int64_t> dims(static_cast<size_t>(x.dim()));
  for (int64_t d = 0; d < x.dim(); ++d) dims[d] = d;
  std::swap(dims[normalize_dim(dim0, x.dim(), "transpose")],
            dims[normalize_dim(dim1, x.dim(), "transpose")]);
  return permute(x, dims);
}

Tensor expand(const Tensor& x, const Shape& shape) {
  check_defined(x, "expand");
  check(broadcast_shapes(x.shape(), shape, "expand") == shape, "expand: cannot expand ", x.shape(),
        " to ", shape);
  if (x.shape() == shape) return x;
  const Tensor y = backend_of(x).expand(x, shape);
  return record("expand", {x}, y, {}, [](const Saved&, const Tensor& gy) -> Grads {
    return {gy};  // the engine's sum_to undoes the broadcast
  });
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  check_defined(x, "narrow");
  const int64_t d = normalize_dim(dim, x.dim(), "narrow");
  const int64_t size = x.shape()[d];
  check(start >= 0 && length >= 0 && start + length <= size, "narrow: range [", start, ", ",
        start + length, ") is out of bounds for dim ", dim, " of size ", size);
  const Shape x_shape = x.shape();
  Shape shape = x_shape;
  shape[d] = length;
  const auto [outer, n, inner] = [&] {
    int64_t o = 1, i = 1;
    for (int64_t k = 0; k < d; ++k) o *= x_shape[k];
    for (int64_t k = d + 1; k < x.dim(); ++k) i *= x_shape[k];
    return std::tuple{o, size, i};
  }();
  Tensor y;
  if (outer == 1) {  // a contiguous block: a view
    y = make_view(x, shape, start * inner);
  } else {
    y = empty(shape, x.dtype(), x.device());
    backend_of(x).copy_block(x, n, start, y, length, 0, length, outer, inner);
  }
  return record("narrow", {x}, y, {},
                [x_shape, start, length, outer, n, inner](const Saved&, const Tensor& gy) -> Grads {
                  Tensor gx = zeros(x_shape, DType::Float32, gy.device());
                  backend_of(gy).copy_block(gy, length, 0, gx, n, start, length, outer, inner);
                  return {gx};
                });
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  check_defined(x, "select");
  const int64_t d = normalize_dim(dim, x.dim(), "select");
  check(index >= -x.shape()[d] && index < x.shape()[d], "select: index ", index,
        " is out of range for dim ", dim, " of size ", x.shape()[d]);
  return squeeze(narrow(x, d, index < 0 ? index + x.shape()[d] : index, 1), d);
}

Tensor concat(const std::vector<Tensor>& xs, int64_t dim) {
  check(!xs.empty(), "concat: needs at least one tensor");
  for (const Tensor& x : xs) check_defined(x, "concat");
  const Tensor& first = xs[0];
  const int64_t d = normalize_dim(dim, first.dim(), "concat");
  Shape shape = first.shape();
  shape[d] = 0;
  for (const Tensor& x : xs) {
    check_same_device(first, x, "concat");
    check(x.dtype() == first.dtype(), "concat: dtypes differ (", to_string(first.dtype()), " and ",
          to_string(x.dtype()), ")");
    bool same = x.dim() == first.dim();
    for (int64_t k = 0; same && k < x.dim(); ++k) same = k == d || x.shape()[k] == first.shape()[k];
    check(same, "concat: shapes ", first.shape(), " and ", x.shape(), " differ outside dim ", dim);
    shape[d] += x.shape()[d];
  }
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < d; ++k) outer *= shape[k];
  for (int64_t k = d + 1; k < static_cast<int64_t>(shape.size()); ++k) inner *= shape[k];
  Tensor y = empty(shape, first.dtype(), first.device());
  std::vector<int64_t> starts;
  int64_t start = 0;
  for (const Tensor& x : xs) {
    starts.push_back(start);
    backend_of(x).copy_block(x, x.shape()[d], 0, y, shape[d], start, x.shape()[d], outer, inner);
    start += x.shape()[d];
  }
  if (first.dtype() != DType::Float32) return y;
  return record("concat", xs, y, {}, [d, starts](const Saved&, const Tensor& gy) -> Grads {
    Grads grads;
    for (size_t i = 0; i < starts.size(); ++i) {
      const int64_t end = i + 1 < starts.size() ? starts[i + 1] : gy.shape()[d];
      grads.push_back(narrow(gy, d, starts[i], end - starts[i]));
    }
    return grads;
  });
}

Tensor stack(const std::vector<Tensor>& xs, int64_t dim) {
  check(!xs.empty(), "stack: needs at least one tensor");
  const int64_t d = normalize_dim(dim, xs[0].dim() + 1, "stack");
  std::vector<Tensor> expanded;
  for (const Tensor& x : xs) {
    check_defined(x, "stack");
    check(x.shape() == xs[0].shape(), "stack: shapes differ: ", xs[0].shape(), " and ", x.shape());
    expanded.push_back(unsqueeze(x, d));
  }
  return concat(expanded, d);
}

// The pieces of x along dim d, of the given lengths, in order; without dim d when drop_dim (all
// lengths are then 1). A piece is a view when it is a contiguous block (nothing before d), else
// a copy. Backward copies each piece's gradient into its block of one zero tensor.
static std::vector<Tensor> pieces(const char* op, const Tensor& x, int64_t d,
                                  const std::vector<int64_t>& lengths, bool drop_dim) {
  const Shape x_shape = x.shape();
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < d; ++k) outer *= x_shape[k];
  for (int64_t k = d + 1; k < x.dim(); ++k) inner *= x_shape[k];
  const int64_t n = x_shape[d];
  std::vector<Tensor> outputs;
  std::vector<int64_t> starts;
  int64_t start = 0;
  for (int64_t length : lengths) {
    Shape shape = x_shape;
    if (drop_dim)
      shape.erase(shape.begin() + d);
    else
      shape[d] = length;
    Tensor piece;
    if (outer == 1) {
      piece = make_view(x, shape, start * inner);
    } else {
      piece = empty(shape, x.dtype(), x.device());
      backend_of(x).copy_block(x, n, start, piece, length, 0, length, outer, inner);
    }
    outputs.push_back(piece);
    starts.push_back(start);
    start += length;
  }
  return record_multi(op, {x}, outputs, {},
                      [x_shape, starts, lengths, outer, n, inner](
                          const Saved&, const std::vector<Tensor>& grads) -> Grads {
                        Tensor gx;
                        for (size_t i = 0; i < grads.size(); ++i) {
                          if (!grads[i].defined()) continue;
                          if (!gx.defined()) gx = zeros(x_shape, DType::Float32, grads[i].device());
                          backend_of(gx).copy_block(grads[i], lengths[i], 0, gx, n, starts[i],
                                                    lengths[i], outer, inner);
                        }
                        return {gx};
                      });
}

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
  check_defined(x, "split");
  check(split_size > 0, "split: split_size must be positive, got ", split_size);
  const int64_t d = normalize_dim(dim, x.dim(), "split");
  std::vector<int64_t> lengths;
  for (int64_t start = 0; start < x.shape()[d]; start += split_size)
    lengths.push_back(std::min(split_size, x.shape()[d] - start));
  return pieces("split", x, d, lengths, /*drop_dim=*/false);
}

std::vector<Tensor> unbind(const Tensor& x, int64_t dim) {
  check_defined(x, "unbind");
  check(x.dim() > 0, "unbind: needs at least one dim, got a 0-dim tensor");
  const int64_t d = normalize_dim(dim, x.dim(), "unbind");
  return pieces("unbind", x, d, std::vector<int64_t>(static_cast<size_t>(x.shape()[d]), 1),
                /*drop_dim=*/true);
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  check_defined(x, "chunk");
  check(chunks > 0, "chunk: chunks must be positive, got ", chunks);
  const int64_t size = x.shape()[normalize_dim(dim, x.dim(), "chunk")];
  return split(x, std::max<int64_t>(1, (size + chunks - 1) / chunks), dim);
}

}  // namespace tg
