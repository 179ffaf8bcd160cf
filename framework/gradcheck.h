// gradcheck: compares the tape's gradients with central finite differences.
//
// For your own ops and layers as much as for ours:
//
//   auto f = [&](const std::vector<Tensor>& in) { return my_layer(in[0]); };
//   GradcheckResult r = gradcheck(f, {randn({3, 4}, gen).set_requires_grad()});
//   CHECK_MESSAGE(r.ok, r.report);
//
// The output is weighted by a fixed random tensor w before summing, L = sum(w * f(x)), because a
// plain sum is blind to some bugs (softmax rows sum to 1, so a backward returning zeros passes).
// For every element x_i of every input that requires grad,
//   numeric_i = (L(x_i + eps) - L(x_i - eps)) / (2 eps),
// computed in double from float32 forwards, and compared with the analytic dL/dx_i:
//   |analytic - numeric| <= atol + rtol * |numeric|.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "framework/tensor.h"

namespace tg {

struct GradcheckOptions {
  double eps = 1e-3;
  double atol = 1e-3;
  double rtol = 1e-2;
  uint64_t seed = 1234;  // for the weights w
};

struct GradcheckResult {
  bool ok = true;
  std::string report;      // the worst element: input, index, analytic, numeric, relative error
  double worst_error = 0;  // largest |analytic - numeric| / (atol + rtol |numeric|); ok <= 1
};

using GradcheckFn = std::function<Tensor(const std::vector<Tensor>&)>;

GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options = {});

}  // namespace tg
