#include "optim/rmsprop.h"

#include "framework/backend/backend.h"

#include <cmath>

namespace tg {

namespace {

enum Slot : size_t { kSquareAvg, kMomentumBuffer, kGradAvg };

void check_rmsprop_options(const RMSpropOptions& o, const std::string& who) {
  check_option(o.alpha >= 0 && o.alpha <= 1, who, "alpha", "in [0, 1]", o.alpha);
  check_option(std::isfinite(o.eps) && o.eps >= 0, who, "eps", ">= 0", o.eps);
  check_option(std::isfinite(o.momentum) && o.momentum >= 0, who, "momentum", ">= 0", o.momentum);
}

}  // namespace

RMSprop::RMSprop(ParamGroups params, RMSpropOptions options)
    : Optimizer("RMSprop", std::move(params), options.lr, options.weight_decay,
                {"square_avg", "momentum_buffer", "grad_avg"}),
      options_(options) {
  check_rmsprop_options(options_, name());
}

void RMSprop::update(const ParamGroup& group, const Tensor& param, const Tensor& grad,
                     ParamState& state) {
  RmspropStep step{};
  step.lr = static_cast<float>(*group.lr);
  step.weight_decay = static_cast<float>(*group.weight_decay);
  step.alpha = static_cast<float>(options_.alpha);
  step.one_minus_alpha = static_cast<float>(1.0 - options_.alpha);
  step.eps = static_cast<float>(options_.eps);
  step.momentum = static_cast<float>(options_.momentum);
  step.centered = options_.centered;
  backend_of(param).rmsprop_step(
      step, param, grad, buffer(state, kSquareAvg, param),
      step.centered ? buffer(state, kGradAvg, param) : Tensor(),
      step.momentum > 0.0f ? buffer(state, kMomentumBuffer, param) : Tensor());
}

void RMSprop::save_options(Checkpoint& out) const {
  out.set_double("alpha", options_.alpha);
  out.set_double("eps", options_.eps);
  out.set_double("momentum", options_.momentum);
  out.set_bool("centered", options_.centered);
}

RMSpropOptions RMSprop::read_options(const Checkpoint& in) const {
  RMSpropOptions o = options_;
  o.alpha = in.get_double("alpha");
  o.eps = in.get_double("eps");
  o.momentum = in.get_double("momentum");
  o.centered = in.get_bool("centered");
  check_rmsprop_options(o, name() + ": load_state from " + in.source());
  return o;
}

void RMSprop::check_options(const Checkpoint& in) const { read_options(in); }
void RMSprop::load_options(const Checkpoint& in) { options_ = read_options(in); }

}  // namespace tg
