// The fused neural-network kernels on the GPU: softmax / log-softmax, cross-entropy and layer
// norm, forward and backward. The math (and its derivation) is that of backend/cpu/cpu_nn.cpp;
// here a group of threads handles one row, striding over the row's elements and combining their
// partial results with Rows::reduce: a warp per row for rows up to cuda::kWarpRowMaxLength long,
// a block per longer row (cuda::launch_row_groups; each kernel is written once for both).
//
// Softmax works along any dim: the tensor is seen as [outer, n, inner] and a row is the n
// elements x[o, :, i], inner elements apart in memory.
#include <vector>

#include "framework/backend/cuda/cuda_backend.h"
#include "framework/backend/cuda/cuda_kernels.cuh"

namespace tg {
namespace {

using cuda::MaxOp;
using cuda::SumOp;

// softmax: y_j = exp(x_j - m) / sum_k exp(x_k - m);  log-softmax: y_j = x_j - m - log sum_k ...
// over the kept entries; masked entries give 0, a row with nothing to weigh gives all zeros.
template <class Rows>
__global__ void softmax_kernel(int64_t rows, const float* x, float* y, const int32_t* keep,
                               cuda::Split s, bool log) {
  for (int64_t row = Rows::first_row(); row < rows; row += Rows::row_stride()) {
    const int64_t at = cuda::row_start(s, row), stride = s.inner;
    const float* in = x + at;
    float* out = y + at;
    auto kept = [&](int64_t j) { return keep == nullptr || keep[at + j * stride] != 0; };
    float max = -INFINITY;
    for (int64_t j = Rows::lane(); j < s.n; j += Rows::width())
      if (kept(j)) max = fmaxf(max, in[j * stride]);
    max = Rows::reduce(max, MaxOp{});
    if (max == -INFINITY) {  // the same answer in every thread: the whole group takes this path
      for (int64_t j = Rows::lane(); j < s.n; j += Rows::width()) out[j * stride] = 0.0f;
      continue;
    }
    float sum = 0.0f;
    for (int64_t j = Rows::lane(); j < s.n; j += Rows::width())
      if (kept(j)) sum += expf(in[j * stride] - max);
    sum = Rows::reduce(sum, SumOp{});
    const float shift = max + logf(sum), inverse = 1.0f / sum;
    for (int64_t j = Rows::lane(); j < s.n; j += Rows::width()) {
      const float v = in[j * stride];
      out[j * stride] = !kept(j) ? 0.0f : log ? v - shift : expf(v - max) * inverse;
    }
  }
}

// softmax: gx = y * (gy - sum_k gy_k y_k);  log-softmax: gx = gy - exp(y) * sum_k gy_k,
// the sums over kept entries only; masked entries receive 0.
template <class Rows>
__global__ void softmax_backward_kernel(int64_t rows, const float* y, const float* gy, float* gx,
                                        const int32_t* keep, cuda::Split s, bool log) {
  for (int64_t row = Rows::first_row(); row < rows; row += Rows::row_stride()) {
    const int64_t at = cuda::row_start(s, row), stride = s.inner;
    auto kept = [&](int64_t j) { return keep == nullptr || keep[at + j * stride] != 0; };
    float total = 0.0f;
    for (int64_t j = Rows::lane(); j < s.n; j += Rows::width()) {
      const int64_t e = at + j * stride;
      if (kept(j)) total += log ? gy[e] : gy[e] * y[e];
    }
    total = Rows::reduce(total, SumOp{});
    for (int64_t j = Rows::lane(); j < s.n; j += Rows::width()) {
      const int64_t e = at + j * stride;
      gx[e] = !kept(j) ? 0.0f : log ? gy[e] - expf(y[e]) * total : y[e] * (gy[e] - total);
    }
  }
}

// loss = -(1 - s) log p_t - (s / C) sum_j log p_j,  log p_j = x_j - logsumexp(x);
// probs = softmax(x) is written for the backward. Ignored rows get loss 0.
template <class Rows>
__global__ void cross_entropy_kernel(int64_t rows, const float* logits, const int32_t* targets,
                                     float* probs, float* loss, int64_t classes,
                                     int64_t ignore_index, float label_smoothing) {
  const float smooth_weight = label_smoothing / static_cast<float>(classes);
  for (int64_t row = Rows::first_row(); row < rows; row += Rows::row_stride()) {
    const float* x = logits + row * classes;
    float* p = probs + row * classes;
    float max = -INFINITY, sum_x = 0.0f;
    for (int64_t j = Rows::lane(); j < classes; j += Rows::width()) {
      max = fmaxf(max, x[j]);
      sum_x += x[j];
    }
    max = Rows::reduce(max, MaxOp{});
    sum_x = Rows::reduce(sum_x, SumOp{});
    float sum = 0.0f;
    for (int64_t j = Rows::lane(); j < classes; j += Rows::width()) sum += expf(x[j] - max);
    sum = Rows::reduce(sum, SumOp{});
    const float inverse = 1.0f / sum;
    for (int64_t j = Rows::lane(); j < classes; j += Rows::width())
      p[j] = expf(x[j] - max) * inverse;
    if (Rows::lane() == 0) {
      const int32_t target = targets[row];
      if (target == ignore_index || target < 0 || target >= classes) {
        loss[row] = 0.0f;
      } else {
        const float log_sum_exp = max + logf(sum);
        const float log_p_target = x[target] - log_sum_exp;
        const float sum_log_p = sum_x - static_cast<float>(classes) * log_sum_exp;
        loss[row] = -(1.0f - label_smoothing) * log_p_target - smooth_weight * sum_log_p;
      }
    }
  }
}

// gx[r, j] = grad_loss[r] * (p[r, j] - q[r, j]),  q = (1 - s) one_hot(t) + s / C; 0 if ignored.
__global__ void cross_entropy_backward_kernel(int64_t n, const float* probs, const int32_t* targets,
                                              const float* grad_loss, float* gx, int64_t classes,
                                              int64_t ignore_index, float label_smoothing) {
  const float smooth_weight = label_smoothing / static_cast<float>(classes);
  for (int64_t i = cuda::first_index(); i < n; i += cuda::index_stride()) {
    const int64_t row = i / classes, j = i % classes;
    const int32_t target = targets[row];
    if (target == ignore_index || target < 0 || target >= classes) {
      gx[i] = 0.0f;
      continue;
    }
    const float g = grad_loss[row];
    float value = g * (probs[i] - smooth_weight);
    if (j == target) value -= g * (1.0f - label_smoothing);
    gx[i] = value;
  }
}

// mean = sum x / D; var = sum (x - mean)^2 / D (two passes, no cancellation);
// rstd = 1 / sqrt(var + eps); y = (x - mean) * rstd * weight + bias.
template <class Rows>
__global__ void layer_norm_kernel(int64_t rows, const float* x, const float* weight,
                                  const float* bias, float* y, float* mean_out, float* rstd_out,
                                  int64_t features, float eps) {
  const float inverse_features = 1.0f / static_cast<float>(features);
  for (int64_t row = Rows::first_row(); row < rows; row += Rows::row_stride()) {
    const float* in = x + row * features;
    float* out = y + row * features;
    float sum = 0.0f;
    for (int64_t j = Rows::lane(); j < features; j += Rows::width()) sum += in[j];
    const float mean = Rows::reduce(sum, SumOp{}) * inverse_features;
    float squares = 0.0f;
    for (int64_t j = Rows::lane(); j < features; j += Rows::width())
      squares += (in[j] - mean) * (in[j] - mean);
    const float rstd = 1.0f / sqrtf(Rows::reduce(squares, SumOp{}) * inverse_features + eps);
    if (Rows::lane() == 0) {
      mean_out[row] = mean;
      rstd_out[row] = rstd;
    }
    for (int64_t j = Rows::lane(); j < features; j += Rows::width())
      out[j] = (in[j] - mean) * rstd * (weight ? weight[j] : 1.0f) + (bias ? bias[j] : 0.0f);
  }
}

// With xhat = (x - mean) * rstd and g = gy * weight:
//   gx = rstd * (g - mean_j(g) - xhat * mean_j(g * xhat)).
template <class Rows>
__global__ void layer_norm_backward_kernel(int64_t rows, const float* gy, const float* x,
                                           const float* weight, const float* mean,
                                           const float* rstd, float* gx, int64_t features) {
  const float inverse_features = 1.0f / static_cast<float>(features);
  for (int64_t row = Rows::first_row(); row < rows; row += Rows::row_stride()) {
    const int64_t at = row * features;
    const float mu = mean[row], inv_std = rstd[row];
    float sum_g = 0.0f, sum_g_xhat = 0.0f;
    for (int64_t j = Rows::lane(); j < features; j += Rows::width()) {
      const float g = gy[at + j] * (weight ? weight[j] : 1.0f);
      sum_g += g;
      sum_g_xhat += g * (x[at + j] - mu) * inv_std;
    }
    const float mean_g = Rows::reduce(sum_g, SumOp{}) * inverse_features;
    const float mean_g_xhat = Rows::reduce(sum_g_xhat, SumOp{}) * inverse_features;
    for (int64_t j = Rows::lane(); j < features; j += Rows::width()) {
      const float xhat = (x[at + j] - mu) * inv_std;
      const float g = gy[at + j] * (weight ? weight[j] : 1.0f);
      gx[at + j] = inv_std * (g - mean_g - xhat * mean_g_xhat);
    }
  }
}

// The weight gradients sum over every row: g_weight = sum gy * xhat, g_bias = sum gy. Atomics
// would make the sums depend on timing, so stage 1 sums fixed chunks of rows into partials
// ([chunks, 2, features]), and stage 2 adds the chunks in order: the same bits on every run.
constexpr int64_t kRowsPerChunk = 64;

__global__ void layer_norm_weight_partials_kernel(int64_t n, const float* gy, const float* x,
                                                  const float* mean, const float* rstd,
                                                  float* partials, int64_t rows, int64_t features) {
  for (int64_t i = cuda::first_index(); i < n; i += cuda::index_stride()) {
    const int64_t chunk = i / features, j = i % features;
    const int64_t end = min(rows, (chunk + 1) * kRowsPerChunk);
    float sum_weight = 0.0f, sum_bias = 0.0f;
    for (int64_t r = chunk * kRowsPerChunk; r < end; ++r) {
      const float g = gy[r * features + j];
      sum_weight += g * (x[r * features + j] - mean[r]) * rstd[r];
      sum_bias += g;
    }
    partials[(chunk * 2) * features + j] = sum_weight;
    partials[(chunk * 2 + 1) * features + j] = sum_bias;
  }
}

__global__ void layer_norm_weight_sum_kernel(int64_t features, const float* partials,
                                             float* grad_weight, float* grad_bias, int64_t chunks) {
  for (int64_t j = cuda::first_index(); j < features; j += cuda::index_stride()) {
    float sum_weight = 0.0f, sum_bias = 0.0f;
    for (int64_t c = 0; c < chunks; ++c) {
      sum_weight += partials[(c * 2) * features + j];
      sum_bias += partials[(c * 2 + 1) * features + j];
    }
    grad_weight[j] = sum_weight;
    grad_bias[j] = sum_bias;
  }
}

const int32_t* mask_data(const Tensor& mask) {
  return mask.defined() ? mask.device_data<int32_t>() : nullptr;
}
const float* optional_data(const Tensor& t) {
  return t.defined() ? t.device_data<float>() : nullptr;
}

}  // namespace

Tensor CudaBackend::softmax(const Tensor& x, int64_t dim, const Tensor& mask, bool log) {
  const cuda::Split s = cuda::split_at(x.shape(), dim);
  Tensor y = empty(x.shape(), DType::Float32, Device::CUDA);
  if (x.numel() == 0) return y;
  cuda::launch_row_groups({"softmax (warp per row)", "softmax (block per row)"}, s.outer * s.inner,
                          s.n, softmax_kernel<cuda::WarpPerRow>, softmax_kernel<cuda::BlockPerRow>,
                          x.device_data<float>(), y.device_data<float>(), mask_data(mask), s, log);
  return y;
}

Tensor CudaBackend::softmax_backward(const Tensor& y, const Tensor& gy, int64_t dim,
                                     const Tensor& mask, bool log) {
  const cuda::Split s = cuda::split_at(y.shape(), dim);
  Tensor gx = empty(y.shape(), DType::Float32, Device::CUDA);
  if (y.numel() == 0) return gx;
  cuda::launch_row_groups({"softmax_backward (warp per row)", "softmax_backward (block per row)"},
                          s.outer * s.inner, s.n, softmax_backward_kernel<cuda::WarpPerRow>,
                          softmax_backward_kernel<cuda::BlockPerRow>, y.device_data<float>(),
                          gy.device_data<float>(), gx.device_data<float>(), mask_data(mask), s,
                          log);
  return gx;
}

CrossEntropyResult CudaBackend::cross_entropy(const Tensor& logits, const Tensor& targets,
                                              int64_t ignore_index, float label_smoothing) {
  const int64_t rows = logits.size(0), classes = logits.size(1);
  // The op queued a check of the targets (reported at the next host copy); until then the
  // kernels treat a target out of range like ignore_index, so nothing reads out of bounds.
  CrossEntropyResult result{empty({rows}, DType::Float32, Device::CUDA),
                            empty({rows, classes}, DType::Float32, Device::CUDA)};
  if (classes == 0) return result;
  cuda::launch_row_groups({"cross_entropy (warp per row)", "cross_entropy (block per row)"}, rows,
                          classes, cross_entropy_kernel<cuda::WarpPerRow>,
                          cross_entropy_kernel<cuda::BlockPerRow>, logits.device_data<float>(),
                          targets.device_data<int32_t>(), result.probs.device_data<float>(),
                          result.loss.device_data<float>(), classes, ignore_index, label_smoothing);
  return result;
}

Tensor CudaBackend::cross_entropy_backward(const Tensor& probs, const Tensor& targets,
                                           const Tensor& grad_loss, int64_t ignore_index,
                                           float label_smoothing) {
  Tensor gx = empty(probs.shape(), DType::Float32, Device::CUDA);
  cuda::launch("cross_entropy_backward", gx.numel(), cross_entropy_backward_kernel,
               probs.device_data<float>(), targets.device_data<int32_t>(),
               grad_loss.device_data<float>(), gx.device_data<float>(), probs.size(1), ignore_index,
               label_smoothing);
  return gx;
}

LayerNormResult CudaBackend::layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                        float eps) {
  const int64_t features = x.size(-1);
  const int64_t rows = features == 0 ? 0 : x.numel() / features;
  LayerNormResult result{empty(x.shape(), DType::Float32, Device::CUDA),
                         empty({rows}, DType::Float32, Device::CUDA),
                         empty({rows}, DType::Float32, Device::CUDA)};
  cuda::launch_row_groups({"layer_norm (warp per row)", "layer_norm (block per row)"}, rows,
                          features, layer_norm_kernel<cuda::WarpPerRow>,
                          layer_norm_kernel<cuda::BlockPerRow>, x.device_data<float>(),
                          optional_data(weight), optional_data(bias), result.y.device_data<float>(),
                          result.mean.device_data<float>(), result.rstd.device_data<float>(),
                          features, eps);
  return result;
}

LayerNormGrads CudaBackend::layer_norm_backward(const Tensor& gy, const Tensor& x,
                                                const Tensor& weight, const Tensor& mean,
                                                const Tensor& rstd, bool need_weight_grads) {
  const int64_t features = x.size(-1);
  const int64_t rows = features == 0 ? 0 : x.numel() / features;
  LayerNormGrads grads;
  grads.x = empty(x.shape(), DType::Float32, Device::CUDA);
  cuda::launch_row_groups(
      {"layer_norm_backward (warp per row)", "layer_norm_backward (block per row)"}, rows, features,
      layer_norm_backward_kernel<cuda::WarpPerRow>, layer_norm_backward_kernel<cuda::BlockPerRow>,
      gy.device_data<float>(), x.device_data<float>(), optional_data(weight),
      mean.device_data<float>(), rstd.device_data<float>(), grads.x.device_data<float>(), features);
  if (!need_weight_grads) return grads;
  grads.weight = zeros({features}, DType::Float32, Device::CUDA);
  grads.bias = zeros({features}, DType::Float32, Device::CUDA);
  if (rows == 0) return grads;
  const int64_t chunks = (rows + kRowsPerChunk - 1) / kRowsPerChunk;
  Tensor partials = empty({chunks, 2, features}, DType::Float32, Device::CUDA);
  cuda::launch("layer_norm_weight_partials", chunks * features, layer_norm_weight_partials_kernel,
               gy.device_data<float>(), x.device_data<float>(), mean.device_data<float>(),
               rstd.device_data<float>(), partials.device_data<float>(), rows, features);
  cuda::launch("layer_norm_weight_sum", features, layer_norm_weight_sum_kernel,
               partials.device_data<float>(), grads.weight.device_data<float>(),
               grads.bias.device_data<float>(), chunks);
  return grads;
}

}  // namespace tg
