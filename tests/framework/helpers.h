// Small helpers shared by the framework tests.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
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

// got[i] within tolerance * (1 + |want[i]|) of want[i], for every i (a NaN never is). One check
// for the whole vector, naming the first element that differs.
inline void check_close(const std::vector<float>& got, const std::vector<float>& want,
                        float tolerance = 1e-5f) {
  REQUIRE(got.size() == want.size());
  size_t mismatches = 0, first = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!(std::abs(got[i] - want[i]) <= tolerance * (1.0f + std::abs(want[i]))))
      if (mismatches++ == 0) first = i;
  }
  CHECK_MESSAGE(mismatches == 0, mismatches, " of ", got.size(), " elements differ; first at ",
                first, ": got ", got[first], ", want ", want[first]);
}

inline bool all_finite(const Tensor& t) {
  for (float v : t.to_vector<float>())
    if (!std::isfinite(v)) return false;
  return true;
}

// keep[i, j] = |i - j| <= window (and j <= i when causal), Int32 [len, len]: local attention's
// band as a full mask, from the full-attention masks (window_mask is checked by hand in
// test_local_attention.cpp), independent of the band code.
inline Tensor band_keep_mask(int64_t len, int64_t window, bool causal) {
  const Tensor band = window_mask(len, window);
  return causal ? band * causal_mask(len) : band;
}

// Random normal values from a fixed seed, optionally a leaf that requires grad.
inline Tensor random_tensor(const Shape& shape, uint64_t seed, bool requires_grad = false) {
  Generator gen(seed);
  Tensor t = randn(shape, gen);
  if (requires_grad) t.set_requires_grad();
  return t;
}

// A float tensor with requires_grad, random normal values from a fixed seed.
inline Tensor param(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, gen).set_requires_grad();
}

}  // namespace tg::testing
