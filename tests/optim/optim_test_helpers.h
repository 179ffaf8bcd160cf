// Small helpers shared by the optim tests.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "framework/tapegrad.h"

namespace optim_test {

inline void check_close(const std::vector<float>& got, const std::vector<double>& want,
                        double tolerance = 1e-6) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element ", i, ": got ", got[i], ", want ", want[i]);
    CHECK(std::abs(got[i] - want[i]) <= tolerance * (1.0 + std::abs(want[i])));
  }
}

inline tg::Tensor parameter(const std::vector<float>& values) {
  return tg::from_vector(values, {static_cast<int64_t>(values.size())}).set_requires_grad();
}

inline void set_grad(const tg::Tensor& param, const std::vector<float>& values) {
  param.set_grad(tg::from_vector(values, param.shape()));
}

inline bool bitwise_equal(const tg::Tensor& a, const tg::Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  return std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

// Least squares: minimise mean((A x - b)^2) over x, with b = A x_true, so x_true is the
// unique minimiser (A has full column rank). Returns the distance |x - x_true|_inf after steps.
template <class MakeOptimizer>
double least_squares_distance(MakeOptimizer make_optimizer, int steps) {
  tg::Generator gen(7);
  const tg::Tensor a = tg::randn({16, 3}, gen);
  const tg::Tensor x_true = tg::from_vector(std::vector<float>{1.5f, -2.0f, 0.5f}, {3, 1});
  const tg::Tensor b = tg::matmul(a, x_true);
  tg::Tensor x = tg::zeros({3, 1}).set_requires_grad();
  auto optimizer = make_optimizer(std::vector<tg::Tensor>{x});
  for (int step = 0; step < steps; ++step) {
    optimizer.zero_grad();
    tg::mse_loss(tg::matmul(a, x), b).backward();
    optimizer.step();
  }
  double distance = 0;
  const auto got = x.to_vector<float>(), want = x_true.to_vector<float>();
  for (size_t i = 0; i < got.size(); ++i)
    distance = std::max(distance, static_cast<double>(std::abs(got[i] - want[i])));
  return distance;
}

}  // namespace optim_test
