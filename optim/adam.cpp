#include "optim/adam.h"

#include "framework/backend/backend.h"

#include <cmath>

namespace tg {

namespace {

enum Slot : size_t { kExpAvg, kExpAvgSq, kMaxExpAvgSq };

void check_adam_options(const AdamOptions& o, const std::string& who) {
  check_option(o.beta1 >= 0 && o.beta1 < 1, who, "beta1", "in [0, 1)", o.beta1);
  check_option(o.beta2 >= 0 && o.beta2 < 1, who, "beta2", "in [0, 1)", o.beta2);
  check_option(std::isfinite(o.eps) && o.eps >= 0, who, "eps", ">= 0", o.eps);
}

}  // namespace

Adam::Adam(ParamGroups params, AdamOptions options)
    : Adam("Adam", std::move(params), options, false) {}

Adam::Adam(std::string name, ParamGroups params, AdamOptions options, bool decoupled_weight_decay)
    : Optimizer(std::move(name), std::move(params), options.lr, options.weight_decay,
                {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}),
      options_(options),
      decoupled_weight_decay_(decoupled_weight_decay) {
  check_adam_options(options_, this->name());
}

AdamW::AdamW(ParamGroups params, AdamWOptions options)
    : Adam("AdamW", std::move(params), options.as_adam_options(), true) {}

void Adam::update(const ParamGroup& group, const Tensor& param, const Tensor& grad,
                  ParamState& state) {
  // Scalars in double, then float: the per-element loop is pure float arithmetic.
  const double lr = *group.lr;
  const double t = static_cast<double>(state.step);
  const double correction1 = 1.0 - std::pow(options_.beta1, t);
  const double correction2 = 1.0 - std::pow(options_.beta2, t);
  AdamStep step{};
  step.step_size = static_cast<float>(lr / correction1);
  step.inv_sqrt_correction2 = static_cast<float>(1.0 / std::sqrt(correction2));
  step.beta1 = static_cast<float>(options_.beta1);
  step.beta2 = static_cast<float>(options_.beta2);
  step.one_minus_beta1 = static_cast<float>(1.0 - options_.beta1);
  step.one_minus_beta2 = static_cast<float>(1.0 - options_.beta2);
  step.eps = static_cast<float>(options_.eps);
  step.l2 = decoupled_weight_decay_ ? 0.0f : static_cast<float>(*group.weight_decay);
  step.shrink = decoupled_weight_decay_ ? static_cast<float>(1.0 - lr * *group.weight_decay) : 1.0f;
  step.amsgrad = options_.amsgrad;
  backend_of(param).adam_step(step, param, grad, buffer(state, kExpAvg, param),
                              buffer(state, kExpAvgSq, param),
                              step.amsgrad ? buffer(state, kMaxExpAvgSq, param) : Tensor());
}

void Adam::save_options(Checkpoint& out) const {
  out.set_double("beta1", options_.beta1);
  out.set_double("beta2", options_.beta2);
  out.set_double("eps", options_.eps);
  out.set_bool("amsgrad", options_.amsgrad);
}

AdamOptions Adam::read_options(const Checkpoint& in) const {
  AdamOptions o = options_;
  o.beta1 = in.get_double("beta1");
  o.beta2 = in.get_double("beta2");
  o.eps = in.get_double("eps");
  o.amsgrad = in.get_bool("amsgrad");
  check_adam_options(o, name() + ": load_state from " + in.source());
  return o;
}

void Adam::check_options(const Checkpoint& in) const { read_options(in); }
void Adam::load_options(const Checkpoint& in) { options_ = read_options(in); }

}  // namespace tg
