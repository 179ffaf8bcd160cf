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

namespace tg {

// Small parameters (biases) stay on one thread; large ones are split.
constexpr int64_t kOptimParallel = 1 << 16;

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
  const int64_t n = param.numel();
#pragma omp parallel for simd if (n >= kOptimParallel)
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i] + s.l2 * p[i];
    const float pi = p[i] * s.shrink;
    const float mi = s.beta1 * m[i] + s.one_minus_beta1 * gi;
    float vi = s.beta2 * v[i] + s.one_minus_beta2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    if (v_max) {
      vi = std::max(v_max[i], vi);
      v_max[i] = vi;
    }
    p[i] = pi - s.step_size * mi / (std::sqrt(vi) * s.inv_sqrt_correction2 + s.eps);
  }
}

void CpuBackend::rmsprop_step(const RmspropStep& s, const Tensor& param, const Tensor& grad,
                              const Tensor& square_avg, const Tensor& grad_avg,
                              const Tensor& momentum_buffer) {
  float* p = param.data<float>();
  const float* g = grad.data<float>();
  float* v = square_avg.data<float>();
  float* a = s.centered ? grad_avg.data<float>() : nullptr;
  float* b = momentum_buffer.defined() ? momentum_buffer.data<float>() : nullptr;
  const int64_t n = param.numel();
#pragma omp parallel for simd if (n >= kOptimParallel)
  for (int64_t i = 0; i < n; ++i) {
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

}  // namespace tg
