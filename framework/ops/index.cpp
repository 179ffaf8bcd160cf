// Gathering along a dim, and its adjoint, the scatter-add:
//   y[..., i, ...] = x[..., index[i], ...]
//   dL/dx[..., k, ...] = sum over every i with index[i] == k of dL/dy[..., i, ...]
// An index may repeat (the same token twice in a batch), which is why the backward adds into a
// zero tensor rather than copying.
#include "framework/ops/index.h"

#include <vector>

#include "framework/backend/backend.h"
#include "framework/ops/checks.h"
#include "framework/ops/reduce.h"
#include "framework/ops/shape.h"
#include "framework/tape.h"

namespace tg {
namespace {

// Every index in [0, size): a bad id is an error that names it, never a read out of bounds.
// Checked where the index lives (check_values), never by a copy to the host.
void check_in_range(const Tensor& index, int64_t size, const char* op, const char* what) {
  check_values(index, {op, what, "position", 0, size});
}

}  // namespace

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  check_defined(x, "index_select");
  check(x.dim() >= 1, "index_select: needs at least one dimension, got a 0-dim tensor");
  const int64_t d = normalize_dim(dim, x.dim(), "index_select");
  check_int(index, "index_select", "index");
  check(index.dim() == 1, "index_select: index must be 1-D, got shape ", index.shape());
  check_same_device(x, index, "index_select");
  check_in_range(index, x.size(d), "index_select", "index");

  Tensor y = backend_of(x).index_select(x, d, index);
  return record("index_select", {x}, y, /*saved=*/{index},
                [d, x_shape = x.shape()](const Saved& s, const Tensor& gy) -> Grads {
                  Tensor gx = zeros(x_shape, DType::Float32, gy.device());
                  backend_of(gy).index_add(gx, d, s[0], gy, /*skip_index=*/-1);
                  return {gx};
                });
}

// A lookup table: out[ids..., :] = weight[id, :]. The backward scatter-adds each output row's
// gradient into the row it came from, skipping padding_idx so that padding never learns.
Tensor embedding(const Tensor& weight, const Tensor& ids, int64_t padding_idx) {
  check_float(weight, "embedding");
  check(weight.dim() == 2, "embedding: weight must be 2-D [num_embeddings, dim], got shape ",
        weight.shape());
  check_int(ids, "embedding", "ids");
  check_same_device(weight, ids, "embedding");
  const int64_t count = weight.size(0), width = weight.size(1);
  check(padding_idx < count, "embedding: padding_idx ", padding_idx, " is out of range [0, ", count,
        ") (use -1 for none)");
  const int64_t lookups = ids.numel();
  const Tensor flat_ids = reshape(ids, {lookups});
  check_in_range(flat_ids, count, "embedding", "id");

  Shape out_shape = ids.shape();
  out_shape.push_back(width);
  const Tensor rows = backend_of(weight).index_select(weight, 0, flat_ids);
  const int64_t skip_index = padding_idx < 0 ? -1 : padding_idx;
  return record("embedding", {weight}, reshape(rows, out_shape), /*saved=*/{flat_ids},
                [count, width, lookups, skip_index](const Saved& s, const Tensor& gy) -> Grads {
                  Tensor gw = zeros({count, width}, DType::Float32, gy.device());
                  backend_of(gy).index_add(gw, 0, s[0], gy.reshape({lookups, width}), skip_index);
                  return {gw};
                });
}

}  // namespace tg
