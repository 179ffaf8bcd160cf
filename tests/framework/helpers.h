// Small helpers shared by the framework tests.
#pragma once

#include <doctest/doctest.h>

#include <vector>

#include "framework/tapegrad.h"

namespace tg::testing {

// Element-by-element comparison with a readable failure.
inline void check_values(const Tensor& t, const std::vector<float>& expected, float tol = 1e-5f) {
  const std::vector<float> got = t.to(DType::Float32).to_vector<float>();
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element ", i, ": got ", got[i], ", expected ", expected[i]);
    CHECK(got[i] == doctest::Approx(expected[i]).epsilon(tol).scale(1.0));
  }
}

inline void check_gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                            const GradcheckOptions& options = {}) {
  const GradcheckResult result = gradcheck(f, inputs, options);
  CHECK_MESSAGE(result.ok, result.report);
}

// A float tensor with requires_grad, random normal values from a fixed seed.
inline Tensor param(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, gen).set_requires_grad();
}

}  // namespace tg::testing
