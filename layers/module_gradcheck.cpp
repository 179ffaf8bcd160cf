#include "layers/module_gradcheck.h"

#include <cmath>
#include <sstream>
#include <string>

#include "framework/backend/backend.h"
#include "framework/random.h"
#include "framework/tape.h"

namespace tg {

namespace {

struct Checked {
  std::string name;  // "input 0" or "parameter 'up.weight'"
  Tensor tensor;     // perturbed in place
};

}  // namespace

GradcheckResult gradcheck_module(const Module& module, const GradcheckFn& f,
                                 const std::vector<Tensor>& inputs,
                                 const GradcheckOptions& options) {
  // Fresh leaves for the inputs, so that the caller's tensors and gradients stay untouched.
  std::vector<Tensor> leaves;
  std::vector<Checked> checked;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Tensor leaf = inputs[i].detach().clone();
    if (inputs[i].requires_grad()) {
      leaf.set_requires_grad();
      checked.push_back({"input " + std::to_string(i), leaf});
    }
    leaves.push_back(leaf);
  }
  const NamedTensors parameters = module.named_parameters();
  std::vector<Tensor> previous_grads;
  for (const auto& [name, parameter] : parameters) {
    previous_grads.push_back(parameter.grad());
    parameter.zero_grad();
    checked.push_back({"parameter '" + name + "'", parameter});
  }

  // Analytic: one backward of L = sum(w * f(x)), seeded with w.
  const Tensor out = f(leaves);
  check(out.defined() && out.dtype() == DType::Float32,
        "gradcheck_module: f must return a float32 tensor");
  check(out.requires_grad(), "gradcheck_module: the output depends on no input or parameter of ",
        module.path());
  Generator gen(options.seed);
  const Tensor w = uniform(out.shape(), 0.5f, 1.5f, gen, out.device());
  const std::vector<float> weights = w.to(Device::CPU).to_vector<float>();
  out.backward(w);

  auto weighted_loss = [&] {
    NoGradGuard no_recording;
    const std::vector<float> y = f(leaves).to(Device::CPU).to_vector<float>();
    double total = 0;
    for (size_t i = 0; i < y.size(); ++i) total += static_cast<double>(weights[i]) * y[i];
    return total;
  };

  // Numeric: central differences, (L(x_i + eps) - L(x_i - eps)) / (2 eps), element by element.
  GradcheckResult result;
  std::ostringstream report;
  for (const Checked& c : checked) {
    const Tensor grad = c.tensor.grad();
    const std::vector<float> analytic =
        grad.defined() ? grad.to(Device::CPU).to_vector<float>()
                       : std::vector<float>(static_cast<size_t>(c.tensor.numel()), 0.0f);
    std::vector<float> values = c.tensor.to(Device::CPU).to_vector<float>();
    auto loss_at = [&](size_t i, float value) {
      values[i] = value;
      backend_of(c.tensor).copy_from_host(c.tensor, values.data());
      return weighted_loss();
    };
    for (size_t i = 0; i < values.size(); ++i) {
      const float original = values[i];
      const double plus = loss_at(i, original + static_cast<float>(options.eps));
      const double minus = loss_at(i, original - static_cast<float>(options.eps));
      loss_at(i, original);
      const double numeric = (plus - minus) / (2 * options.eps);
      const double error = std::fabs(analytic[i] - numeric);
      const double scaled = error / (options.atol + options.rtol * std::fabs(numeric));
      if (!(scaled <= result.worst_error)) {  // also catches NaN
        result.worst_error = std::isnan(scaled) ? INFINITY : scaled;
        report.str("");
        report << c.name << " " << to_string(c.tensor.shape()) << " element " << i << ": analytic "
               << analytic[i] << ", numeric " << numeric << ", |error| " << error << " (" << scaled
               << "x the tolerance)";
      }
    }
  }

  for (size_t p = 0; p < parameters.size(); ++p) {
    if (previous_grads[p].defined())
      parameters[p].second.set_grad(previous_grads[p]);
    else
      parameters[p].second.zero_grad();
  }
  result.ok = result.worst_error <= 1.0;
  result.report =
      (result.ok ? "gradcheck_module passed; worst " : "gradcheck_module FAILED; worst ") +
      (report.str().empty() ? std::string("(nothing to check)") : report.str());
  return result;
}

}  // namespace tg
