// gradcheck over the shared table of op cases (tests/op_cases.h): every differentiable case's
// analytic gradient agrees with finite differences. The same table drives CPU/CUDA parity.
#include <doctest/doctest.h>

#include "../op_cases.h"

namespace tg {
namespace {

TEST_CASE("op cases: every differentiable case passes gradcheck") {
  uint64_t seed = 500;
  int checked = 0;
  for (const testing::OpCase& c : testing::op_cases()) {
    if (!c.gradcheck) continue;
    INFO("op case: ", c.name);
    Generator gen(seed++);
    std::vector<Tensor> inputs;
    for (const Shape& shape : c.inputs) inputs.push_back(randn(shape, gen).set_requires_grad());
    DType output_dtype;
    {
      NoGradGuard no_grad;
      output_dtype = c.f(inputs).dtype();
    }
    if (output_dtype == DType::Int32) continue;  // comparisons and argmax: nothing to check
    const GradcheckResult result = gradcheck(c.f, inputs);
    CHECK_MESSAGE(result.ok, c.name, ": ", result.report);
    ++checked;
  }
  CHECK(checked >= 64);  // the cases in the table today: a case that stops running shows here
}

}  // namespace
}  // namespace tg
