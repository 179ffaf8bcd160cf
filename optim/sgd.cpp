#include "optim/sgd.h"

#include "framework/backend/backend.h"

#include <cmath>

namespace tg {

namespace {

void check_sgd_options(const SGDOptions& o, const std::string& who) {
  check_option(std::isfinite(o.momentum) && o.momentum >= 0, who, "momentum", ">= 0", o.momentum);
  check_option(std::isfinite(o.dampening) && o.dampening >= 0 && o.dampening <= 1, who, "dampening",
               "in [0, 1]", o.dampening);
  // Nesterov looks ahead along the momentum; without momentum, or with a damped one, the
  // look-ahead is not the one the method defines.
  check(!o.nesterov || (o.momentum > 0 && o.dampening == 0), who,
        ": nesterov needs momentum > 0 and dampening == 0, got momentum ", o.momentum,
        " and dampening ", o.dampening);
}

}  // namespace

SGD::SGD(ParamGroups params, SGDOptions options)
    : Optimizer("SGD", std::move(params), options.lr, options.weight_decay, {"momentum_buffer"}),
      options_(options) {
  check_sgd_options(options_, name());
}

void SGD::update(const ParamGroup& group, const Tensor& param, const Tensor& grad,
                 ParamState& state) {
  SgdStep step{};
  step.lr = static_cast<float>(*group.lr);
  step.weight_decay = static_cast<float>(*group.weight_decay);
  step.momentum = static_cast<float>(options_.momentum);
  step.keep = 1.0f - static_cast<float>(options_.dampening);
  step.nesterov = options_.nesterov;
  step.first = state.buffers.empty() || !state.buffers[0].defined();  // b starts as g
  const Tensor momentum_buffer = step.momentum == 0.0f ? Tensor() : buffer(state, 0, param);
  backend_of(param).sgd_step(step, param, grad, momentum_buffer);
}

void SGD::save_options(Checkpoint& out) const {
  out.set_double("momentum", options_.momentum);
  out.set_double("dampening", options_.dampening);
  out.set_bool("nesterov", options_.nesterov);
}

SGDOptions SGD::read_options(const Checkpoint& in) const {
  SGDOptions o = options_;
  o.momentum = in.get_double("momentum");
  o.dampening = in.get_double("dampening");
  o.nesterov = in.get_bool("nesterov");
  check_sgd_options(o, name() + ": load_state from " + in.source());
  return o;
}

void SGD::check_options(const Checkpoint& in) const { read_options(in); }
void SGD::load_options(const Checkpoint& in) { options_ = read_options(in); }

}  // namespace tg
