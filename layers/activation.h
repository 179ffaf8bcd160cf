// Activation functions as modules, so that they can sit in a Sequential. They hold no
// parameters; each forwards to the op of the same name in framework/ops/elementwise.h or
// framework/ops/activation.h.
#pragma once

#include "framework/ops/activation.h"
#include "layers/module_unary.h"

namespace tg {

// The choice a layer offers (FeedForward, the Transformer layers), as PyTorch's activation="relu"
// or "gelu" (and gelu with approximate="tanh").
enum class Activation { Relu, Gelu, GeluTanh };

const char* to_string(Activation activation);  // "relu", "gelu", "gelu_tanh"
// relu(x) = max(x, 0);  gelu(x) = x * Phi(x), Phi the standard normal CDF (exact);
// gelu_tanh: GELU's tanh approximation (framework/ops/activation.h).
Tensor activate(Activation activation, const Tensor& x);

struct ReLU : UnaryModule {
  ReLU() : UnaryModule("ReLU") {}
  Tensor forward(const Tensor& x) const override;
};

// PyTorch's nn.GELU(approximate="none" | "tanh").
struct GELU : UnaryModule {
  explicit GELU(GeluApproximation approximate = GeluApproximation::None)
      : UnaryModule("GELU"), approximate(approximate) {}
  Tensor forward(const Tensor& x) const override;
  GeluApproximation approximate;
};

// PyTorch's nn.Softplus(beta, threshold): log(1 + e^(beta x)) / beta, x where beta x > threshold.
struct Softplus : UnaryModule {
  explicit Softplus(float beta = 1.0f, float threshold = 20.0f)
      : UnaryModule("Softplus"), beta(beta), threshold(threshold) {}
  Tensor forward(const Tensor& x) const override;
  float beta, threshold;
};

struct Tanh : UnaryModule {
  Tanh() : UnaryModule("Tanh") {}
  Tensor forward(const Tensor& x) const override;
};

// sigmoid(x) = 1 / (1 + e^-x)
struct Sigmoid : UnaryModule {
  Sigmoid() : UnaryModule("Sigmoid") {}
  Tensor forward(const Tensor& x) const override;
};

}  // namespace tg
