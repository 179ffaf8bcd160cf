// Helpers shared by the layer tests.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "framework/tapegrad.h"
#include "layers/module.h"

namespace tg::testing {

inline void check_close(const std::vector<float>& got, const std::vector<float>& want,
                        float tolerance = 1e-5f) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element ", i, ": got ", got[i], ", want ", want[i]);
    CHECK(std::abs(got[i] - want[i]) <= tolerance * (1.0f + std::abs(want[i])));
  }
}

inline void check_close(const Tensor& got, const std::vector<float>& want,
                        float tolerance = 1e-5f) {
  check_close(got.to_vector<float>(), want, tolerance);
}

// Overwrites a parameter's values in place (every handle to it sees them).
inline void set_values(const Tensor& t, const std::vector<float>& values) {
  REQUIRE(static_cast<int64_t>(values.size()) == t.numel());
  backend_of(t).copy_from_host(t, values.data());
}

inline Tensor random_leaf(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, gen).set_requires_grad();
}

// The names of the parameters that got no gradient: after a backward through the whole layer,
// this must be empty (a child declared but never registered, or never called, shows up here).
inline std::vector<std::string> parameters_without_grad(const Module& module) {
  std::vector<std::string> missing;
  for (const auto& [name, parameter] : module.named_parameters())
    if (!parameter.grad().defined()) missing.push_back(name);
  return missing;
}

inline std::vector<std::string> parameter_names(const Module& module) {
  std::vector<std::string> names;
  for (const auto& [name, parameter] : module.named_parameters()) names.push_back(name);
  return names;
}

struct Moments {
  double mean, std, min, max;
};
inline Moments moments_of(const Tensor& t) {
  const std::vector<float> v = t.to_vector<float>();
  double sum = 0, squares = 0, low = v.at(0), high = v.at(0);
  for (float x : v) {
    sum += x;
    low = std::min<double>(low, x);
    high = std::max<double>(high, x);
  }
  const double mean = sum / static_cast<double>(v.size());
  for (float x : v) squares += (x - mean) * (x - mean);
  return {mean, std::sqrt(squares / static_cast<double>(v.size())), low, high};
}

}  // namespace tg::testing
