#include "layers/gru_cell.h"

#include <cmath>
#include <string>
#include <vector>

#include "framework/ops/elementwise.h"
#include "framework/ops/matmul.h"
#include "framework/ops/shape.h"

namespace tg {

Tensor gru_step(const Tensor& input_gates, const Tensor& hidden_gates, const Tensor& h) {
  const std::vector<Tensor> gi = chunk(input_gates, 3, -1);   // r, z, n
  const std::vector<Tensor> gh = chunk(hidden_gates, 3, -1);  // r, z, n
  const Tensor r = sigmoid(gi[0] + gh[0]);
  const Tensor z = sigmoid(gi[1] + gh[1]);
  const Tensor n = tanh(gi[2] + r * gh[2]);
  return n + z * (h - n);  // = (1 - z) n + z h, one op fewer
}

GRUCell::GRUCell(int64_t input_size, int64_t hidden_size, bool bias, Generator& gen)
    : Module("GRUCell"), input_size_(input_size), hidden_size_(hidden_size) {
  check(input_size > 0 && hidden_size > 0, *this,
        ": input_size and hidden_size must be positive, got ", input_size, " and ", hidden_size);
  const float bound = 1.0f / std::sqrt(static_cast<float>(hidden_size));
  const int64_t gates = 3 * hidden_size;
  weight_ih = register_parameter("weight_ih", uniform({gates, input_size}, -bound, bound, gen));
  weight_hh = register_parameter("weight_hh", uniform({gates, hidden_size}, -bound, bound, gen));
  if (bias) {
    bias_ih = register_parameter("bias_ih", uniform({gates}, -bound, bound, gen));
    bias_hh = register_parameter("bias_hh", uniform({gates}, -bound, bound, gen));
  }
}

Tensor GRUCell::forward(const Tensor& x, const Tensor& h) const {
  if (!x.defined() || x.dim() != 2 || x.size(1) != input_size_ || x.dtype() != DType::Float32)
    check(false, *this, ": expected a float32 input [batch, ", input_size_, "], got ",
          x.defined() ? std::string(to_string(x.dtype())) + " " + to_string(x.shape())
                      : std::string("an undefined tensor"));
  const Shape state_shape{x.size(0), hidden_size_};
  if (h.defined() && h.shape() != state_shape)
    check(false, *this, ": expected h ", state_shape, ", got ", h.shape());
  const Tensor state = h.defined() ? h : zeros(state_shape, DType::Float32, x.device());
  return gru_step(linear(x, weight_ih, bias_ih), linear(state, weight_hh, bias_hh), state);
}

}  // namespace tg
