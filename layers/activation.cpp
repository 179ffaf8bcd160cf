#include "layers/activation.h"

#include "framework/ops/elementwise.h"

namespace tg {

const char* to_string(Activation activation) {
  switch (activation) {
    case Activation::Relu:
      return "relu";
    case Activation::Gelu:
      return "gelu";
    case Activation::GeluTanh:
      return "gelu_tanh";
  }
  return "unknown";
}

Tensor activate(Activation activation, const Tensor& x) {
  switch (activation) {
    case Activation::Relu:
      return relu(x);
    case Activation::Gelu:
      return gelu(x);
    case Activation::GeluTanh:
      return gelu(x, GeluApproximation::Tanh);
  }
  fail("activate: unknown activation ", static_cast<int>(activation));
}

Tensor ReLU::forward(const Tensor& x) const { return relu(x); }
Tensor GELU::forward(const Tensor& x) const { return gelu(x, approximate); }
Tensor Softplus::forward(const Tensor& x) const { return softplus(x, beta, threshold); }
Tensor Tanh::forward(const Tensor& x) const { return tanh(x); }
Tensor Sigmoid::forward(const Tensor& x) const { return sigmoid(x); }

}  // namespace tg
