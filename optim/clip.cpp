#include "optim/clip.h"

#include <algorithm>
#include <cmath>

namespace tg {

namespace {

NamedTensors unnamed(const std::vector<Tensor>& params) {
  NamedTensors out;
  for (size_t i = 0; i < params.size(); ++i)
    out.emplace_back("parameter " + std::to_string(i), params[i]);
  return out;
}

// The gradient of param as host floats, or nullptr when it has none.
float* grad_floats(const std::string& who, const std::string& name, const Tensor& param) {
  const Tensor grad = param.grad();
  if (!grad.defined()) return nullptr;
  check(grad.device() == Device::CPU, who, ": ", name, " has its gradient on ",
        to_string(grad.device()),
        "; only the cpu device is supported until the CUDA backend "
        "lands");
  check(grad.dtype() == DType::Float32, who, ": ", name, " has a ", to_string(grad.dtype()),
        " gradient");
  return grad.data<float>();
}

}  // namespace

double clip_grad_norm(const NamedTensors& named_params, double max_norm, bool error_if_nonfinite) {
  check(max_norm > 0, "clip_grad_norm: max_norm must be > 0, got ", max_norm);
  // Sum of squares in double, in a fixed order: the norm, and so the clipped gradients, are
  // the same however many threads run (a resumed run must reproduce them bit for bit).
  double sum_of_squares = 0.0;
  std::string first_nonfinite;
  for (const auto& [name, param] : named_params) {
    const float* g = grad_floats("clip_grad_norm", name, param);
    if (g == nullptr) continue;
    double local = 0.0;
    const int64_t n = param.numel();
    for (int64_t i = 0; i < n; ++i) local += static_cast<double>(g[i]) * g[i];
    if (!std::isfinite(local) && first_nonfinite.empty()) first_nonfinite = name;
    sum_of_squares += local;
  }
  const double norm = std::sqrt(sum_of_squares);
  if (!std::isfinite(norm)) {
    check(!error_if_nonfinite, "clip_grad_norm: the total gradient norm is ", norm,
          " (first parameter whose squared norm is not finite: '", first_nonfinite,
          "'); gradients left unchanged. Skip this step, lower the lr or check the loss");
    return norm;
  }
  const double scale = max_norm / (norm + 1e-6);
  if (scale >= 1.0) return norm;
  const float factor = static_cast<float>(scale);
  for (const auto& [name, param] : named_params) {
    float* g = grad_floats("clip_grad_norm", name, param);
    if (g == nullptr) continue;
    const int64_t n = param.numel();
    for (int64_t i = 0; i < n; ++i) g[i] *= factor;
  }
  return norm;
}

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, bool error_if_nonfinite) {
  return clip_grad_norm(unnamed(params), max_norm, error_if_nonfinite);
}

void clip_grad_value(const NamedTensors& named_params, double clip_value) {
  check(clip_value > 0, "clip_grad_value: clip_value must be > 0, got ", clip_value);
  const float limit = static_cast<float>(clip_value);
  for (const auto& [name, param] : named_params) {
    float* g = grad_floats("clip_grad_value", name, param);
    if (g == nullptr) continue;
    const int64_t n = param.numel();
    for (int64_t i = 0; i < n; ++i) g[i] = std::clamp(g[i], -limit, limit);
  }
}

void clip_grad_value(const std::vector<Tensor>& params, double clip_value) {
  clip_grad_value(unnamed(params), clip_value);
}

}  // namespace tg
