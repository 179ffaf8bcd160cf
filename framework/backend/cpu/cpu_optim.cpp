// Optimizer updates: each reads the parameter, its gradient and its state buffers once and
// writes them once, in one loop. The rules, with g the gradient and p the parameter:
//
// SGD (momentum mu, dampening d, weight decay wd, Nesterov):
//   g' = g + wd p;  b = mu b + (1 - d) g'  (b = g' at the first step);
//   p -= lr (Nesterov ? g' + mu b : b)      (no momentum: p -= lr g')
// Adam (Kingma & Ba 2015), AdamW (Loshchilov & Hutter 2019):
//   g' = g + l2 p;  p *= shrink;  m = b1 m + (1 - b1) g';  v = b2 v + (1 - b2) g'^2;
//   (AMSGrad: v_hat = max(v_hat, v), used in place of v)
//   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// RMSprop (Hinton's lecture 6e; centered as in Graves 2013):
//   g' = g + wd p;  v = a v + (1 - a) g'^2;  (centered: gbar = a gbar + (1 - a) g', v - gbar^2)
//   s = g' / (sqrt(v) + eps);  momentum: b = mu b + s, p -= lr b;  else p -= lr s
#include <algorithm>
#include <cmath>

#include "framework/backend/cpu/cpu_backend.h"
#include "framework/backend/cpu/cpu_vector.h"

namespace tg {

// Small parameters (biases) stay on one thread; large ones are split.
constexpr int64_t kOptimParallel = 1 << 16;

// Adam's and RMSprop's updates divide by a square root, which SSE2 code does 4 floats at a
// time: they run as vector kernels (cpu_vector.h), one call per chunk of elements, the chunks
// shared among the threads. (Adam's update was 17% of the MLP step, all scalar, before.)
constexpr int64_t kOptimChunk = 1 << 14;

template <class Update>
void for_each_chunk(int64_t n, const Update& update) {
  const int64_t chunks = (n + kOptimChunk - 1) / kOptimChunk;
#pragma omp parallel for if (n >= kOptimParallel)
  for (int64_t c = 0; c < chunks; ++c) update(c * kOptimChunk, std::min(n, (c + 1) * kOptimChunk));
}

namespace {

// Adam's moments of one element, updated in place; returns the decayed-gradient g'.
[[gnu::always_inline]] inline void adam_moments(const AdamStep& s, float p, float g, float& m,
                                                float& v) {
  const float gi = g + s.l2 * p;
  m = s.beta1 * m + s.one_minus_beta1 * gi;
  v = s.beta2 * v + s.one_minus_beta2 * gi * gi;
}

// The step, given the first moment m and the second moment it divides by.
[[gnu::always_inline]] inline float adam_new_param(const AdamStep& s, float p, float m,
                                                   float second) {
  return p * s.shrink - s.step_size * m / (std::sqrt(second) * s.inv_sqrt_correction2 + s.eps);
}

// `step` is copied into a local: the arrays are floats like its fields, so the compiler could
// not otherwise keep the fields in registers (a store to p[i] might change them). AMSGrad has a
// loop of its own, so that neither loop has a branch inside.
TG_VECTOR_KERNEL void adam_update(const AdamStep& step, float* p, const float* g, float* m,
                                  float* v, float* v_max, int64_t begin, int64_t end) {
  const AdamStep s = step;
  if (v_max == nullptr) {
#pragma omp simd
    for (int64_t i = begin; i < end; ++i) {
      adam_moments(s, p[i], g[i], m[i], v[i]);
      p[i] = adam_new_param(s, p[i], m[i], v[i]);
    }
  } else {
#pragma omp simd
    for (int64_t i = begin; i < end; ++i) {
      adam_moments(s, p[i], g[i], m[i], v[i]);
      v_max[i] = std::max(v_max[i], v[i]);
      p[i] = adam_new_param(s, p[i], m[i], v_max[i]);
    }
  }
}

TG_VECTOR_KERNEL void rmsprop_update(const RmspropStep& step, float* p, const float* g, float* v,
                                     float* a, float* b, int64_t begin, int64_t end) {
  const RmspropStep s = step;  // a local copy, as in adam_update
#pragma omp simd
  for (int64_t i = begin; i < end; ++i) {
    const float gi = g[i] + s.weight_decay * p[i];
    const float vi = s.alpha * v[i] + s.one_minus_alpha * gi * gi;
    v[i] = vi;
    float spread = vi;
    if (a) {
      const float ai = s.alpha * a[i] + s.one_minus_alpha * gi;
      a[i] = ai;
      spread = vi - ai * ai;
    }
    const float scaled = gi / (std::sqrt(spread) + s.eps);
    if (b) {
      b[i] = s.momentum * b[i] + scaled;
      p[i] -= s.lr * b[i];
    } else {
      p[i] -= s.lr * scaled;
    }
  }
}

}  // namespace

void CpuBackend::sgd_step(const SgdStep& s, const Tensor& param, const Tensor& grad,
                          const Tensor& momentum_buffer) {
  float* p = param.data<float>();
  const float* g = grad.data<float>();
  const int64_t n = param.numel();
  if (!momentum_buffer.defined()) {
#pragma omp parallel for simd if (n >= kOptimParallel)
    for (int64_t i = 0; i < n; ++i) p[i] -= s.lr * (g[i] + s.weight_decay * p[i]);
    return;
  }
  float* b = momentum_buffer.data<float>();
#pragma omp parallel for simd if (n >= kOptimParallel)
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i] + s.weight_decay * p[i];
    const float bi = s.first ? gi : s.momentum * b[i] + s.keep * gi;
    b[i] = bi;
    p[i] -= s.lr * (s.nesterov ? gi + s.momentum * bi : bi);
  }
}

void CpuBackend::adam_step(const AdamStep& s, const Tensor& param, const Tensor& grad,
                           const Tensor& exp_avg, const Tensor& exp_avg_sq,
                           const Tensor& max_exp_avg_sq) {
  float* p = param.data<float>();
  const float* g = grad.data<float>();
  float* m = exp_avg.data<float>();
  float* v = exp_avg_sq.data<float>();
  float* v_max = s.amsgrad ? max_exp_avg_sq.data<float>() : nullptr;
  for_each_chunk(param.numel(), [&](int64_t begin, int64_t end) {
    adam_update(s, p, g, m, v, v_max, begin, end);
  });
}

void CpuBackend::rmsprop_step(const RmspropStep& s, const Tensor& param, const Tensor& grad,
                              const Tensor& square_avg, const Tensor& grad_avg,
                              const Tensor& momentum_buffer) {
  float* p = param.data<float>();
  const float* g = grad.data<float>();
  float* v = square_avg.data<float>();
  float* a = s.centered ? grad_avg.data<float>() : nullptr;
  float* b = momentum_buffer.defined() ? momentum_buffer.data<float>() : nullptr;
  for_each_chunk(param.numel(),
                 [&](int64_t begin, int64_t end) { rmsprop_update(s, p, g, v, a, b, begin, end); });
}

}  // namespace tg
