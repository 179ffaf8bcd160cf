// RMSprop (Hinton, Coursera lecture 6e, 2012), with the options of PyTorch's torch.optim.RMSprop.
//
// For each parameter p with gradient g:
//   g = g + weight_decay * p
//   v = alpha * v + (1 - alpha) * g^2                   (running mean of the squared gradient)
//   centered:  a = alpha * a + (1 - alpha) * g;  d = sqrt(v - a^2) + eps   (a variance estimate)
//   otherwise: d = sqrt(v) + eps
//   momentum > 0:  b = momentum * b + g / d;  p = p - lr * b
//   otherwise:     p = p - lr * g / d
#pragma once

#include "optim/optimizer.h"

namespace tg {

struct RMSpropOptions {
  double lr = 0.01;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double momentum = 0.0;
  bool centered = false;
};

class RMSprop : public Optimizer {
 public:
  explicit RMSprop(ParamGroups params, RMSpropOptions options = {});
  const RMSpropOptions& options() const { return options_; }

 private:
  void update(const ParamGroup& group, const Tensor& param, const Tensor& grad,
              ParamState& state) override;
  void save_options(Checkpoint& out) const override;
  void check_options(const Checkpoint& in) const override;
  void load_options(const Checkpoint& in) override;
  RMSpropOptions read_options(const Checkpoint& in) const;

  RMSpropOptions options_;
};

}  // namespace tg
