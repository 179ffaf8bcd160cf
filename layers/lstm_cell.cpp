#include "layers/lstm_cell.h"

#include <cmath>
#include <vector>

#include "framework/ops/elementwise.h"
#include "framework/ops/matmul.h"
#include "framework/ops/recurrent.h"
#include "framework/ops/shape.h"

namespace tg {

// gates = [x, h] W^T + b: one gemm, W read transposed in place.
static Tensor step_gates(const Tensor& x, const LSTMState& state, const Tensor& weight,
                         const Tensor& bias) {
  return linear(concat({x, state.h}, 1), weight, bias);
}

// The functions' own checks (LSTMCell checks its input itself, once, and calls step_gates).
static void check_step(const Tensor& x, const LSTMState& state, const Tensor& weight,
                       const Tensor& bias) {
  check(x.defined() && state.h.defined() && state.c.defined() && weight.defined(),
        "lstm_cell: x, state.h, state.c and weight must all be defined");
  check(x.dim() == 2, "lstm_cell: expected x [batch, input], got ", x.shape());
  const int64_t batch = x.size(0), hidden = state.h.size(-1);
  const Shape state_shape{batch, hidden};
  check(state.h.shape() == state_shape && state.c.shape() == state_shape,
        "lstm_cell: expected h and c ", state_shape, ", got ", state.h.shape(), " and ",
        state.c.shape());
  const Shape weight_shape{4 * hidden, x.size(1) + hidden};
  check(weight.shape() == weight_shape, "lstm_cell: expected weight ", weight_shape, " for x ",
        x.shape(), " and h ", state.h.shape(), ", got ", weight.shape());
  check(!bias.defined() || bias.shape() == Shape{4 * hidden}, "lstm_cell: expected bias [",
        4 * hidden, "], got ", [&] { return bias.shape(); });
}

LSTMState lstm_cell(const Tensor& x, const LSTMState& state, const Tensor& weight,
                    const Tensor& bias) {
  check_step(x, state, weight, bias);
  const LSTMPointwise next = lstm_pointwise(step_gates(x, state, weight, bias), state.c);
  return {next.h, next.c};
}

LSTMState lstm_cell_reference(const Tensor& x, const LSTMState& state, const Tensor& weight,
                              const Tensor& bias) {
  check_step(x, state, weight, bias);
  const std::vector<Tensor> chunks = chunk(step_gates(x, state, weight, bias), 4, 1);
  const Tensor input_gate = sigmoid(chunks[0]);
  const Tensor forget_gate = sigmoid(chunks[1]);
  const Tensor candidate = tanh(chunks[2]);
  const Tensor output_gate = sigmoid(chunks[3]);

  const Tensor c = forget_gate * state.c + input_gate * candidate;
  const Tensor h = output_gate * tanh(c);
  return {h, c};
}

LSTMCell::LSTMCell(int64_t input_size, int64_t hidden_size, bool bias, Generator& gen)
    : Module("LSTMCell"), input_size_(input_size), hidden_size_(hidden_size) {
  check(input_size > 0 && hidden_size > 0, *this,
        ": input_size and hidden_size must be positive, got ", input_size, " and ", hidden_size);
  // PyTorch's default, every parameter U(-k, k) with k = 1/sqrt(H): models and learning rates
  // ported from PyTorch then start from the same distribution.
  const float bound = 1.0f / std::sqrt(static_cast<float>(hidden_size));
  weight = register_parameter(
      "weight", uniform({4 * hidden_size, input_size + hidden_size}, -bound, bound, gen));
  if (bias) this->bias = register_parameter("bias", uniform({4 * hidden_size}, -bound, bound, gen));
}

LSTMState LSTMCell::zero_state(int64_t batch, Device device) const {
  return {zeros({batch, hidden_size_}, DType::Float32, device),
          zeros({batch, hidden_size_}, DType::Float32, device)};
}

// The layer's entry: its input checked once, here; the step itself checks nothing again.
LSTMState LSTMCell::forward(const Tensor& x, const LSTMState& state) const {
  check(x.defined() && x.dim() == 2 && x.size(1) == input_size_, *this, ": expected input [batch, ",
        input_size_, "], got ",
        [&] { return x.defined() ? to_string(x.shape()) : "an undefined tensor"; });
  check(x.dtype() == DType::Float32, *this, ": expected a float32 input, got ",
        to_string(x.dtype()));
  check(state.h.defined() == state.c.defined(), *this,
        ": state.h and state.c must be both given or both left out");
  const LSTMState start = state.h.defined() ? state : zero_state(x.size(0), x.device());
  // Sizes compared one by one: this runs every time step, and a Shape would be an allocation.
  const auto is_state = [&](const Tensor& t) {
    return t.dim() == 2 && t.size(0) == x.size(0) && t.size(1) == hidden_size_;
  };
  check(is_state(start.h) && is_state(start.c), *this, ": expected h and c [", x.size(0), ",",
        hidden_size_, "], got ", start.h.shape(), " and ", start.c.shape());
  const LSTMPointwise next = lstm_pointwise(step_gates(x, start, weight, bias), start.c);
  return {next.h, next.c};
}

}  // namespace tg
