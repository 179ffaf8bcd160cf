// Adam (Kingma & Ba 2015) with optional AMSGrad (Reddi et al. 2018), and AdamW, its variant with
// decoupled weight decay (Loshchilov & Hutter 2019). The update rule of PyTorch's torch.optim.
//
// For each parameter p with gradient g, at update t (counting from 1):
//   Adam:  g = g + weight_decay * p            (L2 penalty: decay is scaled by 1/sqrt(v) too)
//   AdamW: p = p * (1 - lr * weight_decay)     (decoupled: every weight shrinks at the same rate)
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g^2
//   v_max = max(v_max, v)                      (AMSGrad only; then v_max replaces v below)
//   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// The two (1 - beta^t) factors undo the bias of m and v toward their zero start.
#pragma once

#include "optim/optimizer.h"

namespace tg {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;  // Adam: L2 in the gradient; AdamW: decoupled
  bool amsgrad = false;
};

class Adam : public Optimizer {
 public:
  explicit Adam(ParamGroups params, AdamOptions options = {});
  const AdamOptions& options() const { return options_; }

 protected:
  Adam(std::string name, ParamGroups params, AdamOptions options, bool decoupled_weight_decay);

 private:
  void update(const ParamGroup& group, const Tensor& param, const Tensor& grad,
              ParamState& state) override;
  void save_options(Checkpoint& out) const override;
  void check_options(const Checkpoint& in) const override;
  void load_options(const Checkpoint& in) override;
  AdamOptions read_options(const Checkpoint& in) const;

  AdamOptions options_;
  bool decoupled_weight_decay_;
};

// AdamW's options: AdamOptions' fields, but weight_decay defaults to 0.01, as in PyTorch (pass 0
// to turn it off). A plain aggregate like every options struct, so designated initializers work:
//   AdamW adamw(model.parameters(), {.lr = 3e-4, .weight_decay = 0.05});
struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.01;  // decoupled
  bool amsgrad = false;

  AdamOptions as_adam_options() const { return {lr, beta1, beta2, eps, weight_decay, amsgrad}; }
};

class AdamW : public Adam {
 public:
  explicit AdamW(ParamGroups params, AdamWOptions options = {});
};

}  // namespace tg
