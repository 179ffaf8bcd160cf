// The scalars of one optimizer update, worked out once per parameter by the optimizer (optim/)
// and handed to the backend's fused update kernels (Backend::sgd_step, adam_step, rmsprop_step).
#pragma once

namespace tg {

struct SgdStep {
  float lr, weight_decay, momentum, keep;  // keep = 1 - dampening
  bool nesterov, first;                    // first: the momentum buffer starts as the gradient
};
struct AdamStep {
  float step_size;             // lr / (1 - beta1^t)
  float inv_sqrt_correction2;  // 1 / sqrt(1 - beta2^t)
  float beta1, beta2, eps;
  // 1 - beta1 and 1 - beta2 computed in double, then rounded once: in float, 1 - 0.999f is
  // 9.99987e-4, and a first step came out 89 ulp off (PyTorch rounds once, as here).
  float one_minus_beta1, one_minus_beta2;
  float l2;      // Adam's weight decay, added to the gradient
  float shrink;  // AdamW's decoupled decay: p *= 1 - lr * weight_decay
  bool amsgrad;
};
struct RmspropStep {
  float lr, weight_decay, alpha, eps, momentum;
  float one_minus_alpha;  // computed in double, as Adam's (1 - beta)
  bool centered;
};

}  // namespace tg
