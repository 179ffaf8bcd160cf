// Reductions along one dim. x is seen as [outer, n, inner]; the result is [outer, 1, inner].
#include <limits>

#include "framework/backend/cpu/cpu_backend.h"

namespace tg {

static Shape kept_dim_shape(Shape shape, int64_t dim) {
  shape[dim] = 1;
  return shape;
}

// As PyTorch: a NaN anywhere makes the max (min) NaN. Once the running value is NaN no
// comparison replaces it; a NaN arriving replaces any number. (std::max ignores a NaN that
// arrives second and keeps one that came first: the result depended on where the NaN sat.)
static float nan_propagating_max(float running, float value) {
  return (value > running || value != value) ? value : running;
}
static float nan_propagating_min(float running, float value) {
  return (value < running || value != value) ? value : running;
}

Tensor CpuBackend::reduce(ReduceOp op, const Tensor& x, int64_t dim) {
  const auto [outer, n, inner] = split_at(x.shape(), dim);
  Tensor out = empty(kept_dim_shape(x.shape(), dim), DType::Float32, Device::CPU);
  const float* in = x.data<float>();
  float* o = out.data<float>();
  const float start = op == ReduceOp::Sum   ? 0.0f
                      : op == ReduceOp::Max ? -std::numeric_limits<float>::infinity()
                                            : std::numeric_limits<float>::infinity();
  // Each output element (outer o, inner i) folds n inputs spaced inner apart. When inner == 1
  // the inputs are contiguous; otherwise the loop runs over i innermost so memory is read in
  // order.
#pragma omp parallel for if (outer * n * inner >= kParallelThreshold)
  for (int64_t r = 0; r < outer; ++r) {
    float* row_out = o + r * inner;
    for (int64_t i = 0; i < inner; ++i) row_out[i] = start;
    for (int64_t k = 0; k < n; ++k) {
      const float* src = in + (r * n + k) * inner;
      switch (op) {
        case ReduceOp::Sum:
          for (int64_t i = 0; i < inner; ++i) row_out[i] += src[i];
          break;
        case ReduceOp::Max:
          for (int64_t i = 0; i < inner; ++i) row_out[i] = nan_propagating_max(row_out[i], src[i]);
          break;
        case ReduceOp::Min:
          for (int64_t i = 0; i < inner; ++i) row_out[i] = nan_propagating_min(row_out[i], src[i]);
          break;
      }
    }
  }
  return out;
}

Tensor CpuBackend::argmax(const Tensor& x, int64_t dim) {
  const auto [outer, n, inner] = split_at(x.shape(), dim);
  Tensor out = empty(kept_dim_shape(x.shape(), dim), DType::Int32, Device::CPU);
  const float* in = x.data<float>();
  int32_t* o = out.data<int32_t>();
#pragma omp parallel for if (outer * n * inner >= kParallelThreshold)
  for (int64_t r = 0; r < outer; ++r) {
    for (int64_t i = 0; i < inner; ++i) {
      // The first index of the largest value, or of the first NaN (PyTorch's argmax).
      int64_t best = 0;
      for (int64_t k = 1; k < n; ++k) {
        const float value = in[(r * n + k) * inner + i];
        const float best_value = in[(r * n + best) * inner + i];
        if (best_value != best_value) break;  // a NaN wins and nothing after it can
        if (value > best_value || value != value) best = k;
      }
      o[r * inner + i] = static_cast<int32_t>(best);
    }
  }
  return out;
}

}  // namespace tg
