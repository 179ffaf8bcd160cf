#include "optim/rmsprop.h"

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
  const float lr = static_cast<float>(*group.lr);
  const float decay = static_cast<float>(*group.weight_decay);
  const float alpha = static_cast<float>(options_.alpha);
  const float eps = static_cast<float>(options_.eps);
  const float momentum = static_cast<float>(options_.momentum);
  const bool centered = options_.centered;
  const bool use_momentum = momentum > 0.0f;

  float* p = param.data<float>();
  const float* g = grad.data<float>();
  float* v = buffer(state, kSquareAvg, param);
  float* b = use_momentum ? buffer(state, kMomentumBuffer, param) : nullptr;
  float* a = centered ? buffer(state, kGradAvg, param) : nullptr;
  const int64_t n = param.numel();
#pragma omp parallel for simd if (n >= (1 << 16))
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i] + decay * p[i];
    const float vi = alpha * v[i] + (1.0f - alpha) * gi * gi;
    v[i] = vi;
    float spread = vi;
    if (centered) {
      const float ai = alpha * a[i] + (1.0f - alpha) * gi;
      a[i] = ai;
      spread = vi - ai * ai;
    }
    const float scaled = gi / (std::sqrt(spread) + eps);
    if (use_momentum) {
      b[i] = momentum * b[i] + scaled;
      p[i] -= lr * b[i];
    } else {
      p[i] -= lr * scaled;
    }
  }
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
