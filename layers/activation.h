// Activation functions as modules, so that they can sit in a Sequential. They hold no
// parameters; each forwards to the op of the same name in framework/ops/elementwise.h.
#pragma once

#include "layers/module_unary.h"

namespace tg {

enum class Activation { Relu, Gelu };

const char* to_string(Activation activation);
// relu(x) = max(x, 0);  gelu(x) = x * Phi(x), Phi the standard normal CDF (exact, not tanh).
Tensor activate(Activation activation, const Tensor& x);

struct ReLU : UnaryModule {
  ReLU() : UnaryModule("ReLU") {}
  Tensor forward(const Tensor& x) const override;
};

struct GELU : UnaryModule {
  GELU() : UnaryModule("GELU") {}
  Tensor forward(const Tensor& x) const override;
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
