// Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay,
// following the update rule of PyTorch's torch.optim.SGD (Sutskever et al. 2013 for Nesterov).
//
// For each parameter p with gradient g, at update t (counting from 1):
//   g = g + weight_decay * p                       (L2 penalty folded into the gradient)
//   if momentum != 0:
//     b = g                                  at t = 1
//     b = momentum * b + (1 - dampening) * g at t > 1
//     g = nesterov ? g + momentum * b : b
//   p = p - lr * g
#pragma once

#include "optim/optimizer.h"

namespace tg {

struct SGDOptions {
  double lr = 0.01;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;  // needs momentum > 0 and dampening == 0
};

class SGD : public Optimizer {
 public:
  explicit SGD(ParamGroups params, SGDOptions options = {});
  const SGDOptions& options() const { return options_; }

 private:
  void update(const ParamGroup& group, const Tensor& param, const Tensor& grad,
              ParamState& state) override;
  void save_options(Checkpoint& out) const override;
  void check_options(const Checkpoint& in) const override;
  void load_options(const Checkpoint& in) override;
  SGDOptions read_options(const Checkpoint& in) const;

  SGDOptions options_;
};

}  // namespace tg
