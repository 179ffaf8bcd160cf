#include "framework/gradcheck.h"

#include <cmath>
#include <sstream>

#include "framework/ops/elementwise.h"
#include "framework/ops/reduce.h"
#include "framework/random.h"
#include "framework/tape.h"

namespace tg {

// L(inputs) = sum(w * f(inputs)) in double precision, with recording off.
static double weighted_loss(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                            const std::vector<float>& weights) {
  NoGradGuard no_recording;
  const std::vector<float> out = f(inputs).to(Device::CPU).to_vector<float>();
  double total = 0;
  for (size_t i = 0; i < out.size(); ++i) total += static_cast<double>(weights[i]) * out[i];
  return total;
}

GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options) {
  // Fresh leaves so that the caller's tensors keep their gradients.
  std::vector<Tensor> leaves;
  for (const Tensor& x : inputs) {
    Tensor leaf = x.detach().clone();
    if (x.requires_grad()) leaf.set_requires_grad();
    leaves.push_back(leaf);
  }

  // Analytic: one backward of sum(w * f(x)), seeded with w.
  const Tensor out = f(leaves);
  check(out.dtype() == DType::Float32, "gradcheck: f must return a float32 tensor");
  Generator gen(options.seed);
  const Tensor w = uniform(out.shape(), 0.5f, 1.5f, gen, out.device());
  const std::vector<float> weights = w.to(Device::CPU).to_vector<float>();
  check(out.requires_grad(),
        "gradcheck: the output does not depend on any input that "
        "requires grad");
  out.backward(w);

  GradcheckResult result;
  std::ostringstream report;
  for (size_t t = 0; t < leaves.size(); ++t) {
    if (!leaves[t].requires_grad()) continue;
    const Tensor grad = leaves[t].grad();
    const std::vector<float> analytic =
        grad.defined() ? grad.to(Device::CPU).to_vector<float>()
                       : std::vector<float>(static_cast<size_t>(leaves[t].numel()), 0.0f);
    std::vector<float> values = leaves[t].to(Device::CPU).to_vector<float>();
    for (size_t i = 0; i < values.size(); ++i) {
      const float original = values[i];
      auto loss_at = [&](float value) {
        values[i] = value;
        std::vector<Tensor> probe = leaves;
        probe[t] = from_vector(values, leaves[t].shape(), leaves[t].device());
        return weighted_loss(f, probe, weights);
      };
      const double plus = loss_at(original + static_cast<float>(options.eps));
      const double minus = loss_at(original - static_cast<float>(options.eps));
      values[i] = original;
      const double numeric = (plus - minus) / (2 * options.eps);
      const double error = std::fabs(analytic[i] - numeric);
      const double scaled = error / (options.atol + options.rtol * std::fabs(numeric));
      if (!(scaled <= result.worst_error)) {  // also catches NaN
        result.worst_error = std::isnan(scaled) ? INFINITY : scaled;
        report.str("");
        report << "input " << t << " " << to_string(leaves[t].shape()) << " element " << i
               << ": analytic " << analytic[i] << ", numeric " << numeric << ", |error| " << error
               << " (" << scaled << "x the tolerance)";
      }
    }
  }
  result.ok = result.worst_error <= 1.0;
  result.report = (result.ok ? "gradcheck passed; worst " : "gradcheck FAILED; worst ") +
                  (report.str().empty() ? std::string("(no inputs)") : report.str());
  return result;
}

}  // namespace tg
