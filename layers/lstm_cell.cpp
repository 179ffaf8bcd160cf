#include "layers/lstm_cell.h"

#include <cmath>
#include <vector>

#include "framework/ops/elementwise.h"
#include "framework/ops/matmul.h"
#include "framework/ops/recurrent.h"
#include "framework/ops/shape.h"

namespace tg {

// Checks the shapes of one step; returns gates = [x, h] W^T + b.
static Tensor step_gates(const Tensor& x, const LSTMState& state, const Tensor& weight,
                         const Tensor& bias) {
  check(x.defined() && state.h.defined() && state.c.defined() && weight.defined(),
        "lstm_cell: x, state.h, state.c and weight must all be defined");
  // Checked with if/fail rather than check(): this runs every time step, and check() would
  // format the shapes into strings even when they are fine.
  if (x.dim() != 2) fail("lstm_cell: expected x [batch, input], got ", to_string(x.shape()));
  const int64_t batch = x.size(0), hidden = state.h.size(-1);
  const Shape state_shape{batch, hidden};
  if (state.h.shape() != state_shape || state.c.shape() != state_shape)
    fail("lstm_cell: expected h and c ", to_string(state_shape), ", got ",
         to_string(state.h.shape()), " and ", to_string(state.c.shape()));
  const Shape weight_shape{4 * hidden, x.size(1) + hidden};
  if (weight.shape() != weight_shape)
    fail("lstm_cell: expected weight ", to_string(weight_shape), " for x ", to_string(x.shape()),
         " and h ", to_string(state.h.shape()), ", got ", to_string(weight.shape()));
  if (bias.defined() && bias.shape() != Shape{4 * hidden})
    fail("lstm_cell: expected bias [", 4 * hidden, "], got ", to_string(bias.shape()));

  // gates = [x, h] W^T + b: one gemm, W read transposed in place.
  return linear(concat({x, state.h}, 1), weight, bias);
}

LSTMState lstm_cell(const Tensor& x, const LSTMState& state, const Tensor& weight,
                    const Tensor& bias) {
  const LSTMPointwise next = lstm_pointwise(step_gates(x, state, weight, bias), state.c);
  return {next.h, next.c};
}

LSTMState lstm_cell_reference(const Tensor& x, const LSTMState& state, const Tensor& weight,
                              const Tensor& bias) {
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
  expect(input_size > 0 && hidden_size > 0, "input_size and hidden_size must be positive, got ",
         input_size, " and ", hidden_size);
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

LSTMState LSTMCell::forward(const Tensor& x, const LSTMState& state) const {
  // Shapes are formatted only on failure (this runs every time step).
  if (!x.defined() || x.dim() != 2 || x.size(1) != input_size_)
    expect(false, "expected input [batch, ", input_size_, "], got ",
           x.defined() ? to_string(x.shape()) : "an undefined tensor");
  if (x.dtype() != DType::Float32)
    expect(false, "expected a float32 input, got ", to_string(x.dtype()));
  expect(state.h.defined() == state.c.defined(),
         "state.h and state.c must be both given or both left out");
  if (!state.h.defined()) return lstm_cell(x, zero_state(x.size(0), x.device()), weight, bias);
  const Shape state_shape{x.size(0), hidden_size_};
  if (state.h.shape() != state_shape || state.c.shape() != state_shape)
    expect(false, "expected h and c ", state_shape, ", got ", state.h.shape(), " and ",
           state.c.shape());
  return lstm_cell(x, state, weight, bias);
}

}  // namespace tg
