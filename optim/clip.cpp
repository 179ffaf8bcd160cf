#include "optim/clip.h"

#include <algorithm>
#include <cmath>

#include "framework/backend/backend.h"
#include "framework/ops/elementwise.h"
#include "framework/ops/reduce.h"
#include "framework/tape.h"

namespace tg {

namespace {

NamedTensors unnamed(const std::vector<Tensor>& params) {
  NamedTensors out;
  for (size_t i = 0; i < params.size(); ++i)
    out.emplace_back("parameter " + std::to_string(i), params[i]);
  return out;
}

// The parameters' gradients, by name, skipping parameters without one.
NamedTensors gradients(const char* who, const NamedTensors& named_params) {
  NamedTensors grads;
  for (const auto& [name, param] : named_params) {
    const Tensor grad = param.grad();
    if (!grad.defined()) continue;
    check(grad.dtype() == DType::Float32, who, ": ", name, " has a ", to_string(grad.dtype()),
          " gradient");
    grads.emplace_back(name, grad);
  }
  return grads;
}

// sum of g^2 over one gradient. On the CPU in double, in a fixed order: the norm, and so the
// clipped gradients, are the same however many threads run (a resumed run must reproduce them
// bit for bit). Four running sums, each element to sum i % 4, combined in a fixed order at the
// end: four independent additions per step instead of one chain waiting on the last (perf: the
// single chain was 3.4% of a G2P Transformer training step). Elsewhere a float32 reduction on
// the device, read back.
double squared_norm(const Tensor& g) {
  if (g.device() != Device::CPU) return sum(g * g).item();
  const float* values = g.data<float>();
  const int64_t n = g.numel();
  double lanes[4] = {};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int64_t l = 0; l < 4; ++l) lanes[l] += static_cast<double>(values[i + l]) * values[i + l];
  for (; i < n; ++i) lanes[i % 4] += static_cast<double>(values[i]) * values[i];
  return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}

// The sum of squared_norm over all gradients. Gradients on a GPU are summed there and read back
// once: one wait for the device per step, not one per parameter.
double total_squared_norm(const NamedTensors& grads) {
  double total = 0.0;
  Tensor on_device;
  for (const auto& [name, g] : grads) {
    if (g.device() == Device::CPU) {
      total += squared_norm(g);
      continue;
    }
    const Tensor squares = sum(g * g);
    on_device = on_device.defined() ? on_device + squares : squares;
  }
  if (on_device.defined()) total += on_device.item();
  return total;
}

// The first parameter whose gradient's squared norm is not finite (for the error message).
std::string first_nonfinite(const NamedTensors& grads) {
  for (const auto& [name, g] : grads)
    if (!std::isfinite(squared_norm(g))) return name;
  return "";
}

// g = f(g) in place, where the gradient lives: a loop on the CPU; elsewhere the same function
// through tensor ops, written back over g.
template <class Elementwise, class TensorOp>
void update_in_place(const Tensor& g, Elementwise on_float, TensorOp on_tensor) {
  if (g.device() == Device::CPU) {
    float* values = g.data<float>();
    const int64_t n = g.numel();  // numel() computes it from the shape: once, not per element
    for (int64_t i = 0; i < n; ++i) values[i] = on_float(values[i]);
    return;
  }
  backend_of(g).copy(on_tensor(g), g);
}

}  // namespace

double clip_grad_norm(const NamedTensors& named_params, double max_norm, bool error_if_nonfinite) {
  check(max_norm > 0, "clip_grad_norm: max_norm must be > 0, got ", max_norm);
  const NoGradGuard no_grad;
  const NamedTensors grads = gradients("clip_grad_norm", named_params);
  const double norm = std::sqrt(total_squared_norm(grads));
  if (!std::isfinite(norm)) {
    check(!error_if_nonfinite, "clip_grad_norm: the total gradient norm is ", norm,
          " (first parameter whose squared norm is not finite: '", first_nonfinite(grads),
          "'); gradients left unchanged. Skip this step, lower the lr or check the loss");
    return norm;
  }
  const double scale = max_norm / (norm + 1e-6);
  if (scale >= 1.0) return norm;
  const float factor = static_cast<float>(scale);
  for (const auto& [name, g] : grads)
    update_in_place(
        g, [factor](float v) { return v * factor; },
        [factor](const Tensor& t) { return t * factor; });
  return norm;
}

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, bool error_if_nonfinite) {
  return clip_grad_norm(unnamed(params), max_norm, error_if_nonfinite);
}

void clip_grad_value(const NamedTensors& named_params, double clip_value) {
  check(clip_value > 0, "clip_grad_value: clip_value must be > 0, got ", clip_value);
  const NoGradGuard no_grad;
  const float limit = static_cast<float>(clip_value);
  for (const auto& [name, g] : gradients("clip_grad_value", named_params))
    update_in_place(
        g, [limit](float v) { return std::clamp(v, -limit, limit); },
        // clamp maps NaN to -limit; std::clamp (and so the CPU) keeps it NaN, visible.
        [limit](const Tensor& t) { return where(ne(t, t), t, clamp(t, -limit, limit)); });
}

void clip_grad_value(const std::vector<Tensor>& params, double clip_value) {
  clip_grad_value(unnamed(params), clip_value);
}

}  // namespace tg
