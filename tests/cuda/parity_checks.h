// What the CUDA suites compare with: a result computed on the GPU, brought back to the CPU,
// against the same computation on the CPU. Shared by test_parity.cpp (every op),
// test_layer_parity.cpp (every layer) and test_training_parity.cpp (the optimizers, whole
// training steps).
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "framework/tapegrad.h"

namespace tg::testing {

// Float32 sums may add in another order on the GPU; 1e-4 of the value (or absolute, below 1)
// is far above that rounding and far below any real mistake.
inline constexpr double kTolerance = 1e-4;

// max over elements of |gpu - cpu| / max(1, |cpu|); infinite where either side is NaN.
inline double worst_error(const std::vector<float>& cpu, const std::vector<float>& gpu) {
  double worst = 0;
  for (size_t i = 0; i < cpu.size(); ++i) {
    const double scale = std::max(1.0, std::fabs(static_cast<double>(cpu[i])));
    const double error = std::fabs(static_cast<double>(gpu[i]) - cpu[i]) / scale;
    worst = std::isnan(error) ? INFINITY : std::max(worst, error);
  }
  return worst;
}

// gpu must be a CUDA tensor of cpu's shape and dtype; float32 values must agree within
// kTolerance, int32 values exactly.
inline void check_matches(const Tensor& cpu, const Tensor& gpu, const std::string& what) {
  INFO(what);
  REQUIRE(gpu.device() == Device::CUDA);
  REQUIRE(cpu.shape() == gpu.shape());
  REQUIRE(cpu.dtype() == gpu.dtype());
  const Tensor back = gpu.to(Device::CPU);
  if (cpu.dtype() == DType::Int32) {
    CHECK(cpu.to_vector<int32_t>() == back.to_vector<int32_t>());
    return;
  }
  const double error = worst_error(cpu.to_vector<float>(), back.to_vector<float>());
  CHECK_MESSAGE(error <= kTolerance, what, ": worst relative error ", error);
}

// sum(y * w) for weights w in [0.5, 1.5] drawn from seed: the scalar to call backward() on, as
// gradcheck does (a plain sum would hide a softmax backward of zeros). w is drawn on the CPU and
// moved to y's device, so both devices weigh y by the same numbers.
inline Tensor weighted_sum(const Tensor& y, uint64_t seed) {
  Generator weights(seed);
  const Tensor w = uniform(y.shape(), 0.5f, 1.5f, weights).to(y.device());
  return (y * w).sum();
}

}  // namespace tg::testing
