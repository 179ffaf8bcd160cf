// Optimizer updates on the GPU: one thread per element, the rules of backend/cpu/cpu_optim.cpp.
#include "framework/backend/cuda/cuda_backend.h"
#include "framework/backend/cuda/cuda_kernels.cuh"

namespace tg {
namespace {

__global__ void sgd_kernel(int64_t n, SgdStep s, float* p, const float* g, float* b) {
  for (int64_t i = cuda::first_index(); i < n; i += cuda::index_stride()) {
    const float gi = g[i] + s.weight_decay * p[i];
    if (b == nullptr) {
      p[i] -= s.lr * gi;
      continue;
    }
    const float bi = s.first ? gi : s.momentum * b[i] + s.keep * gi;
    b[i] = bi;
    p[i] -= s.lr * (s.nesterov ? gi + s.momentum * bi : bi);
  }
}

__global__ void adam_kernel(int64_t n, AdamStep s, float* p, const float* g, float* m, float* v,
                            float* v_max) {
  for (int64_t i = cuda::first_index(); i < n; i += cuda::index_stride()) {
    const float gi = g[i] + s.l2 * p[i];
    const float pi = p[i] * s.shrink;
    const float mi = s.beta1 * m[i] + s.one_minus_beta1 * gi;
    float vi = s.beta2 * v[i] + s.one_minus_beta2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    if (v_max != nullptr) {
      vi = fmaxf(v_max[i], vi);
      v_max[i] = vi;
    }
    p[i] = pi - s.step_size * mi / (sqrtf(vi) * s.inv_sqrt_correction2 + s.eps);
  }
}

__global__ void rmsprop_kernel(int64_t n, RmspropStep s, float* p, const float* g, float* v,
                               float* a, float* b) {
  for (int64_t i = cuda::first_index(); i < n; i += cuda::index_stride()) {
    const float gi = g[i] + s.weight_decay * p[i];
    const float vi = s.alpha * v[i] + s.one_minus_alpha * gi * gi;
    v[i] = vi;
    float spread = vi;
    if (a != nullptr) {
      const float ai = s.alpha * a[i] + s.one_minus_alpha * gi;
      a[i] = ai;
      spread = vi - ai * ai;
    }
    const float scaled = gi / (sqrtf(spread) + s.eps);
    if (b != nullptr) {
      b[i] = s.momentum * b[i] + scaled;
      p[i] -= s.lr * b[i];
    } else {
      p[i] -= s.lr * scaled;
    }
  }
}

float* data_or_null(const Tensor& t) { return t.defined() ? t.device_data<float>() : nullptr; }

}  // namespace

void CudaBackend::sgd_step(const SgdStep& step, const Tensor& param, const Tensor& grad,
                           const Tensor& momentum_buffer) {
  cuda::launch("sgd_step", param.numel(), sgd_kernel, step, param.device_data<float>(),
               grad.device_data<float>(), data_or_null(momentum_buffer));
}

void CudaBackend::adam_step(const AdamStep& step, const Tensor& param, const Tensor& grad,
                            const Tensor& exp_avg, const Tensor& exp_avg_sq,
                            const Tensor& max_exp_avg_sq) {
  cuda::launch("adam_step", param.numel(), adam_kernel, step, param.device_data<float>(),
               grad.device_data<float>(), exp_avg.device_data<float>(),
               exp_avg_sq.device_data<float>(),
               step.amsgrad ? data_or_null(max_exp_avg_sq) : nullptr);
}

void CudaBackend::rmsprop_step(const RmspropStep& step, const Tensor& param, const Tensor& grad,
                               const Tensor& square_avg, const Tensor& grad_avg,
                               const Tensor& momentum_buffer) {
  cuda::launch("rmsprop_step", param.numel(), rmsprop_kernel, step, param.device_data<float>(),
               grad.device_data<float>(), square_avg.device_data<float>(),
               step.centered ? data_or_null(grad_avg) : nullptr, data_or_null(momentum_buffer));
}

}  // namespace tg
