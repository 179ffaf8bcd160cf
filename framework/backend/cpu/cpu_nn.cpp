// The fused neural-network kernels on the CPU: softmax / log-softmax, cross-entropy and layer
// norm, forward and backward. Each works row by row, one row per loop iteration, so OpenMP
// splits the rows across threads once there is enough work (kParallelThreshold).
//
// Softmax is computed along any dim: the tensor is seen as [outer, n, inner] (split_at), and a
// "row" is the n elements x[o, :, i], which lie inner elements apart in memory.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "framework/backend/cpu/cpu_backend.h"
#include "framework/backend/cpu/cpu_math.h"
#include "framework/backend/cpu/cpu_softmax_rows.h"
#include "framework/backend/cpu/cpu_vector.h"

namespace tg {
namespace {

// The first element of row r of a tensor seen as [outer, n, inner]; its elements are
// s.inner apart.
int64_t row_start(const DimSplit& s, int64_t r) {
  return (r / s.inner) * s.n * s.inner + r % s.inner;
}

// Sums and maxima of a row in kLanes running partial results, combined at the end. One running
// sum cannot be vectorised (the compiler may not reorder float additions); kLanes independent
// ones are one vector register each step. The order is fixed, so the result is deterministic.
constexpr int64_t kLanes = 16;

template <class Value>
[[gnu::always_inline]] inline float lane_max(int64_t n, Value value) {
  float lanes[kLanes];
  std::fill(lanes, lanes + kLanes, -std::numeric_limits<float>::infinity());
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) lanes[l] = std::max(lanes[l], value(j + l));
  float max = -std::numeric_limits<float>::infinity();
  for (; j < n; ++j) max = std::max(max, value(j));
  for (float lane : lanes) max = std::max(max, lane);
  return max;
}

template <class Value>
[[gnu::always_inline]] inline float lane_sum(int64_t n, Value value) {
  float lanes[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) lanes[l] += value(j + l);
  float sum = 0.0f;
  for (; j < n; ++j) sum += value(j);
  for (float lane : lanes) sum += lane;
  return sum;
}

// One row of softmax (or log-softmax) over the kept entries (keep == nullptr keeps all).
//   softmax:     y_j = exp(x_j - m) / sum_k exp(x_k - m),       m = max_k x_k
//   log-softmax: y_j = x_j - m - log sum_k exp(x_k - m)
// Subtracting the max keeps every exp in (0, 1]: no overflow however large the logits.
// Masked entries give 0. A row with nothing to weigh (every entry masked, or every kept logit
// -inf) gives all zeros rather than the NaN of 0/0.
[[gnu::always_inline]] inline void softmax_row_body(const float* x, float* y, const int32_t* keep,
                                                    int64_t n, int64_t stride, bool log) {
  auto kept = [&](int64_t j) { return keep == nullptr || keep[j * stride] != 0; };
  const float max = lane_max(n, [&](int64_t j) {
    return kept(j) ? x[j * stride] : -std::numeric_limits<float>::infinity();
  });
  if (max == -std::numeric_limits<float>::infinity()) {
    for (int64_t j = 0; j < n; ++j) y[j * stride] = 0.0f;
    return;
  }
  for (int64_t j = 0; j < n; ++j) y[j * stride] = kept(j) ? fast_exp(x[j * stride] - max) : 0.0f;
  const float sum = lane_sum(n, [&](int64_t j) { return y[j * stride]; });
  if (log) {
    const float shift = max + std::log(sum);
    for (int64_t j = 0; j < n; ++j) y[j * stride] = kept(j) ? x[j * stride] - shift : 0.0f;
  } else {
    const float inverse = 1.0f / sum;
    for (int64_t j = 0; j < n; ++j) y[j * stride] *= inverse;
  }
}

// One row of the softmax backward, given the forward output y.
//   softmax:     dy_i/dx_j = y_i (delta_ij - y_j)    =>  gx = y * (gy - sum_k gy_k y_k)
//   log-softmax: dy_i/dx_j = delta_ij - softmax_j    =>  gx = gy - exp(y) * sum_k gy_k
// Masked entries are constants (0) of the output, so their gy takes no part in the sums, and
// they receive 0. (For softmax y = 0 there already; log-softmax needs the mask.)
[[gnu::always_inline]] inline void softmax_backward_row_body(const float* y, const float* gy,
                                                             float* gx, const int32_t* keep,
                                                             int64_t n, int64_t stride, bool log) {
  auto kept = [&](int64_t j) { return keep == nullptr || keep[j * stride] != 0; };
  // One loop per case, each with nothing but its own arithmetic: in a single loop that tests
  // `log` per element, the vectorised code computed the exp of every element for both cases
  // and blended (perf: the softmax backward of attention cost as much as its products).
  if (log) {
    const float total = lane_sum(n, [&](int64_t j) { return kept(j) ? gy[j * stride] : 0.0f; });
    for (int64_t j = 0; j < n; ++j) {
      const int64_t at = j * stride;
      gx[at] = kept(j) ? gy[at] - fast_exp(y[at]) * total : 0.0f;
    }
    return;
  }
  const float total =
      lane_sum(n, [&](int64_t j) { return kept(j) ? gy[j * stride] * y[j * stride] : 0.0f; });
  if (keep == nullptr) {
    for (int64_t j = 0; j < n; ++j) gx[j * stride] = y[j * stride] * (gy[j * stride] - total);
    return;
  }
  for (int64_t j = 0; j < n; ++j) {
    const int64_t at = j * stride;
    gx[at] = kept(j) ? y[at] * (gy[at] - total) : 0.0f;
  }
}

// p = softmax(x) of one contiguous row; returns what the loss needs besides p: the max, the
// sum of exp(x_j - max) and the sum of x.
struct RowSoftmax {
  float max, sum, sum_x;
};
TG_VECTOR_KERNEL RowSoftmax softmax_of_row(const float* x, float* p, int64_t classes) {
  const float max = lane_max(classes, [&](int64_t j) { return x[j]; });
  for (int64_t j = 0; j < classes; ++j) p[j] = fast_exp(x[j] - max);
  const float sum = lane_sum(classes, [&](int64_t j) { return p[j]; });
  const float sum_x = lane_sum(classes, [&](int64_t j) { return x[j]; });
  const float inverse = 1.0f / sum;
  for (int64_t j = 0; j < classes; ++j) p[j] *= inverse;
  return {max, sum, sum_x};
}

// One row of layer norm over its D features (the formulas are at CpuBackend::layer_norm);
// returns the row's mean and rstd. The sums run in lanes, and the weight and bias, when there
// are any, are applied in loops of their own: a loop that tested a pointer for null per element
// would read it with masked loads, slow when the pointer is null (see softmax_row below).
struct RowMoments {
  float mean, rstd;
};
TG_VECTOR_KERNEL RowMoments layer_norm_row(const float* x, const float* weight, const float* bias,
                                           float* y, int64_t features, float eps) {
  const float inverse_features = 1.0f / static_cast<float>(features);
  const float mean = lane_sum(features, [&](int64_t j) { return x[j]; }) * inverse_features;
  const float squares =
      lane_sum(features, [&](int64_t j) { return (x[j] - mean) * (x[j] - mean); });
  const float rstd = 1.0f / std::sqrt(squares * inverse_features + eps);
  for (int64_t j = 0; j < features; ++j) y[j] = (x[j] - mean) * rstd;
  if (weight != nullptr)
    for (int64_t j = 0; j < features; ++j) y[j] *= weight[j];
  if (bias != nullptr)
    for (int64_t j = 0; j < features; ++j) y[j] += bias[j];
  return {mean, rstd};
}

// One row of layer norm's backward (formulas at CpuBackend::layer_norm_backward), given g, the
// gradient reaching xhat (gy * weight, or gy without a weight), as a function of j.
template <class GradXhat>
[[gnu::always_inline]] inline void layer_norm_backward_row_body(const float* x, const float* gy,
                                                                GradXhat g, RowMoments moments,
                                                                int64_t features, float* gx,
                                                                float* partial) {
  const float inverse_features = 1.0f / static_cast<float>(features);
  const float mu = moments.mean, inv_std = moments.rstd;
  const float mean_g = lane_sum(features, g) * inverse_features;
  const float mean_g_xhat =
      lane_sum(features, [&](int64_t j) { return g(j) * (x[j] - mu) * inv_std; }) *
      inverse_features;
  for (int64_t j = 0; j < features; ++j) {
    const float xhat = (x[j] - mu) * inv_std;
    gx[j] = inv_std * (g(j) - mean_g - xhat * mean_g_xhat);
  }
  if (partial == nullptr) return;
  for (int64_t j = 0; j < features; ++j) {  // g_weight += gy * xhat, g_bias += gy
    partial[j] += gy[j] * (x[j] - mu) * inv_std;
    partial[features + j] += gy[j];
  }
}
TG_VECTOR_KERNEL void layer_norm_backward_row(const float* x, const float* gy, const float* weight,
                                              RowMoments moments, int64_t features, float* gx,
                                              float* partial) {
  if (weight != nullptr)
    layer_norm_backward_row_body(
        x, gy, [&](int64_t j) { return gy[j] * weight[j]; }, moments, features, gx, partial);
  else
    layer_norm_backward_row_body(
        x, gy, [&](int64_t j) { return gy[j]; }, moments, features, gx, partial);
}

}  // namespace

// The kernels the loops call. A row along the last dim (stride 1, the attention case) gets its
// own copy of the body, in which the compiler knows the elements are adjacent and vectorises
// every loop; a row along another dim reads its elements stride apart. A row without a mask
// gets its own copy too, in which kept(j) is the constant true: in one copy for both, GCC read
// the mask with masked vector loads (vpmaskmovd) whose lanes were all off when keep was null,
// and on AMD's CPUs such a load from address 0 takes a microcode assist every time (perf: two
// thirds of the unmasked softmax's time, 8% of the fashion_attention step).
TG_VECTOR_KERNEL void softmax_row(const float* x, float* y, const int32_t* keep, int64_t n,
                                  int64_t stride, bool log) {
  if (keep == nullptr && stride == 1)
    softmax_row_body(x, y, nullptr, n, 1, log);
  else if (keep == nullptr)
    softmax_row_body(x, y, nullptr, n, stride, log);
  else if (stride == 1)
    softmax_row_body(x, y, keep, n, 1, log);
  else
    softmax_row_body(x, y, keep, n, stride, log);
}

TG_VECTOR_KERNEL void softmax_backward_row(const float* y, const float* gy, float* gx,
                                           const int32_t* keep, int64_t n, int64_t stride,
                                           bool log) {
  if (keep == nullptr && stride == 1)
    softmax_backward_row_body(y, gy, gx, nullptr, n, 1, log);
  else if (keep == nullptr)
    softmax_backward_row_body(y, gy, gx, nullptr, n, stride, log);
  else if (stride == 1)
    softmax_backward_row_body(y, gy, gx, keep, n, 1, log);
  else
    softmax_backward_row_body(y, gy, gx, keep, n, stride, log);
}

Tensor CpuBackend::softmax(const Tensor& x, int64_t dim, const Tensor& mask, bool log) {
  const DimSplit s = split_at(x.shape(), dim);
  Tensor y = empty(x.shape(), DType::Float32, Device::CPU);
  if (x.numel() == 0) return y;
  const float* in = x.data<float>();
  float* out = y.data<float>();
  const int32_t* keep = mask.defined() ? mask.data<int32_t>() : nullptr;
  const int64_t rows = s.outer * s.inner;
#pragma omp parallel for if (rows * s.n >= kParallelThreshold)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t at = row_start(s, r);
    softmax_row(in + at, out + at, keep ? keep + at : nullptr, s.n, s.inner, log);
  }
  return y;
}

Tensor CpuBackend::softmax_backward(const Tensor& y, const Tensor& gy, int64_t dim,
                                    const Tensor& mask, bool log) {
  const DimSplit s = split_at(y.shape(), dim);
  Tensor gx = empty(y.shape(), DType::Float32, Device::CPU);
  if (y.numel() == 0) return gx;
  const float* out = y.data<float>();
  const float* grad_out = gy.data<float>();
  float* grad_in = gx.data<float>();
  const int32_t* keep = mask.defined() ? mask.data<int32_t>() : nullptr;
  const int64_t rows = s.outer * s.inner;
#pragma omp parallel for if (rows * s.n >= kParallelThreshold)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t at = row_start(s, r);
    softmax_backward_row(out + at, grad_out + at, grad_in + at, keep ? keep + at : nullptr, s.n,
                         s.inner, log);
  }
  return gx;
}

// With label smoothing s over C classes the target distribution is
//   q_j = (1 - s) [j == t] + s / C,
// and the loss of a row is the cross-entropy -sum_j q_j log p_j, p = softmax(logits):
//   loss = -(1 - s) log p_t - (s / C) sum_j log p_j,   log p_j = x_j - logsumexp(x).
CrossEntropyResult CpuBackend::cross_entropy(const Tensor& logits, const Tensor& targets,
                                             int64_t ignore_index, float label_smoothing) {
  const int64_t rows = logits.size(0), classes = logits.size(1);
  const int32_t* target = targets.data<int32_t>();  // in range: the op checked them

  CrossEntropyResult result{empty({rows}, DType::Float32, Device::CPU),
                            empty({rows, classes}, DType::Float32, Device::CPU)};
  if (rows == 0) return result;
  const float* x_all = logits.data<float>();
  float* p_all = result.probs.data<float>();
  float* loss = result.loss.data<float>();
  const float smooth_weight = label_smoothing / static_cast<float>(classes);
#pragma omp parallel for if (rows * classes >= kParallelThreshold)
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = x_all + r * classes;
    const RowSoftmax row = softmax_of_row(x, p_all + r * classes, classes);
    if (target[r] == ignore_index) {
      loss[r] = 0.0f;
      continue;
    }
    const float log_sum_exp = row.max + std::log(row.sum);
    const float log_p_target = x[target[r]] - log_sum_exp;
    const float sum_log_p = row.sum_x - static_cast<float>(classes) * log_sum_exp;
    loss[r] = -(1.0f - label_smoothing) * log_p_target - smooth_weight * sum_log_p;
  }
  return result;
}

// d loss / d x_j = p_j - q_j (softmax and cross-entropy fold into this), so
//   gx[r, j] = grad_loss[r] * (p[r, j] - q[r, j]);  ignored rows get 0.
Tensor CpuBackend::cross_entropy_backward(const Tensor& probs, const Tensor& targets,
                                          const Tensor& grad_loss, int64_t ignore_index,
                                          float label_smoothing) {
  const int64_t rows = probs.size(0), classes = probs.size(1);
  Tensor gx = empty(probs.shape(), DType::Float32, Device::CPU);
  if (gx.numel() == 0) return gx;
  const float* p_all = probs.data<float>();
  const int32_t* target = targets.data<int32_t>();
  const float* g = grad_loss.data<float>();
  float* gx_all = gx.data<float>();
  const float smooth_weight = label_smoothing / static_cast<float>(classes);
#pragma omp parallel for if (rows * classes >= kParallelThreshold)
  for (int64_t r = 0; r < rows; ++r) {
    const float* p = p_all + r * classes;
    float* out = gx_all + r * classes;
    if (target[r] == ignore_index) {
      std::fill(out, out + classes, 0.0f);
      continue;
    }
    for (int64_t j = 0; j < classes; ++j) out[j] = g[r] * (p[j] - smooth_weight);
    out[target[r]] -= g[r] * (1.0f - label_smoothing);
  }
  return gx;
}

// Each row of D features: mean = sum x / D, var = sum (x - mean)^2 / D (biased, two passes so
// no cancellation), rstd = 1 / sqrt(var + eps), y = (x - mean) * rstd * weight + bias.
LayerNormResult CpuBackend::layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                       float eps) {
  const int64_t features = x.size(-1);
  const int64_t rows = x.numel() / features;
  LayerNormResult result{empty(x.shape(), DType::Float32, Device::CPU),
                         empty({rows}, DType::Float32, Device::CPU),
                         empty({rows}, DType::Float32, Device::CPU)};
  if (rows == 0) return result;
  const float* in = x.data<float>();
  const float* w = weight.defined() ? weight.data<float>() : nullptr;
  const float* b = bias.defined() ? bias.data<float>() : nullptr;
  float* out = result.y.data<float>();
  float* mean_all = result.mean.data<float>();
  float* rstd_all = result.rstd.data<float>();
#pragma omp parallel for if (rows * features >= kParallelThreshold)
  for (int64_t r = 0; r < rows; ++r) {
    const RowMoments moments =
        layer_norm_row(in + r * features, w, b, out + r * features, features, eps);
    mean_all[r] = moments.mean;
    rstd_all[r] = moments.rstd;
  }
  return result;
}

// With xhat = (x - mean) * rstd and g = gy * weight (the gradient reaching xhat):
//   gx = rstd * (g - mean_j(g) - xhat * mean_j(g * xhat))
// (mean and rstd depend on x: their terms give the two subtracted means), and over all rows
//   g_weight = sum gy * xhat,   g_bias = sum gy.
// The weight gradients are summed per thread into partial rows, then added in thread order,
// so the result does not depend on which thread finished first.
LayerNormGrads CpuBackend::layer_norm_backward(const Tensor& gy, const Tensor& x,
                                               const Tensor& weight, const Tensor& mean,
                                               const Tensor& rstd, bool need_weight_grads) {
  const int64_t features = x.size(-1);
  const int64_t rows = x.numel() / features;
  LayerNormGrads grads;
  grads.x = empty(x.shape(), DType::Float32, Device::CPU);
  if (need_weight_grads) {
    grads.weight = zeros({features}, DType::Float32, Device::CPU);
    grads.bias = zeros({features}, DType::Float32, Device::CPU);
  }
  if (rows == 0) return grads;
  const float* in = x.data<float>();
  const float* grad_out = gy.data<float>();
  const float* w = weight.defined() ? weight.data<float>() : nullptr;
  const float* mean_all = mean.data<float>();
  const float* rstd_all = rstd.data<float>();
  float* grad_in = grads.x.data<float>();

  const bool parallel = rows * features >= kParallelThreshold;
  const int threads = parallel ? omp_get_max_threads() : 1;
  // [threads][2 * features]: each thread's partial g_weight, then g_bias.
  std::vector<float> partial(need_weight_grads ? threads * 2 * features : 0, 0.0f);
#pragma omp parallel num_threads(threads) if (parallel)
  {
    float* my_partial =
        need_weight_grads ? partial.data() + omp_get_thread_num() * 2 * features : nullptr;
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r)
      layer_norm_backward_row(in + r * features, grad_out + r * features, w,
                              {mean_all[r], rstd_all[r]}, features, grad_in + r * features,
                              my_partial);
  }
  if (need_weight_grads) {
    float* gw = grads.weight.data<float>();
    float* gb = grads.bias.data<float>();
    for (int t = 0; t < threads; ++t) {
      const float* part = partial.data() + t * 2 * features;
      for (int64_t j = 0; j < features; ++j) {
        gw[j] += part[j];
        gb[j] += part[features + j];
      }
    }
  }
  return grads;
}

}  // namespace tg
