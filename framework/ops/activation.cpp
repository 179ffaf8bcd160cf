#include "framework/ops/activation.h"

#include <cmath>
#include <numbers>

#include "framework/ops/checks.h"
#include "framework/ops/elementwise.h"
#include "framework/tape.h"

namespace tg {
namespace {

constexpr float kGeluCubic = 0.044715f;
const float kSqrtTwoOverPi = static_cast<float>(std::sqrt(2.0 / std::numbers::pi));

//   y = x/2 (1 + tanh(u)),   u = sqrt(2/pi) (x + 0.044715 x^3)
//   dy/dx = (1 + tanh(u))/2 + x/2 (1 - tanh(u)^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
// Saves x only: tanh(u) is recomputed in backward, which costs less memory than keeping it.
Tensor gelu_tanh(const Tensor& x) {
  check_float(x, "gelu_tanh");
  auto tanh_u = [](const Tensor& x) { return tanh(kSqrtTwoOverPi * (x + kGeluCubic * x * x * x)); };
  const Tensor y = [&] {
    NoGradGuard compute_only;
    return 0.5f * x * (1.0f + tanh_u(x));
  }();
  return record("gelu_tanh", {x}, y, /*saved=*/{x},
                [tanh_u](const Saved& s, const Tensor& gy) -> Grads {
                  const Tensor& x = s[0];
                  const Tensor t = tanh_u(x);
                  const Tensor du_dx = kSqrtTwoOverPi * (1.0f + 3.0f * kGeluCubic * x * x);
                  return {gy * (0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du_dx)};
                });
}

}  // namespace

Tensor gelu(const Tensor& x, GeluApproximation approximate) {
  return approximate == GeluApproximation::Tanh ? gelu_tanh(x) : gelu(x);
}

//   z = beta x
//   y = (max(z, 0) + log(1 + e^-|z|)) / beta     (= log(1 + e^z) / beta, without overflow)
//   y = x where z > threshold
//   dy/dx = sigmoid(z), and 1 where z > threshold
Tensor softplus(const Tensor& x, float beta, float threshold) {
  check_float(x, "softplus");
  check(beta > 0.0f && std::isfinite(beta), "softplus: beta must be positive and finite, got ",
        beta);
  auto linear_part = [threshold](const Tensor& z) {
    return gt(z, full({}, threshold, DType::Float32, z.device()));
  };
  const Tensor y = [&] {
    NoGradGuard compute_only;
    const Tensor z = beta * x;
    const Tensor smooth = (relu(z) + log(exp(-abs(z)) + 1.0f)) / beta;
    return where(linear_part(z), x, smooth);
  }();
  return record("softplus", {x}, y, /*saved=*/{x},
                [beta, linear_part](const Saved& s, const Tensor& gy) -> Grads {
                  const Tensor z = beta * s[0];
                  return {gy * where(linear_part(z), ones_like(z), sigmoid(z))};
                });
}

}  // namespace tg
