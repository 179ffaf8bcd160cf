#include "layers/lstm.h"

#include <string>

#include "framework/ops/checks.h"
#include "framework/ops/matmul.h"
#include "framework/ops/nn.h"
#include "framework/ops/recurrent.h"
#include "framework/ops/shape.h"
#include "layers/sequence_steps.h"

namespace tg {

namespace {

// One direction of one layer over a time-major sequence [T, B, F]. step_masks[t] is Int32
// [B, 1], nonzero where step t is real; empty when every step of every sequence is real.
// Returns the outputs [T, B, H] and leaves the last state in `state`.
//
// The cell's one product [x, h] W^T splits into x W_x^T + h W_h^T. The x half does not depend
// on the state, so it is one [T*B, F] x [F, 4H] product for all steps at once; the steps, which
// multiply only h, run inside one op (lstm_sequence, framework/ops/recurrent.h) whose backward
// makes W_h's gradient one product too. Same numbers as LSTMCell step by step.
Tensor run_direction(const LSTMCell& cell, const Tensor& sequence,
                     const std::vector<Tensor>& step_masks, bool reverse, LSTMState& state) {
  const int64_t features = sequence.size(2);
  const Tensor w_input = narrow(cell.weight, 1, 0, features);                    // [4H, F]
  const Tensor w_hidden = narrow(cell.weight, 1, features, cell.hidden_size());  // [4H, H]
  const Tensor input_gates = linear(sequence, w_input, cell.bias);               // [T, B, 4H]
  const LSTMSequence run =
      lstm_sequence(input_gates, w_hidden, state.h, state.c, step_masks, reverse);
  state = {run.h, run.c};
  return run.outputs;
}

}  // namespace

LSTM::LSTM(int64_t input_size, int64_t hidden_size, LSTMOptions options, Generator& gen)
    : Module("LSTM"),
      input_size_(input_size),
      hidden_size_(hidden_size),
      options_(options),
      dropout_generator_(&gen) {
  const std::string problem =
      recurrent_options_problem(input_size, hidden_size, options.num_layers, options.dropout);
  check(problem.empty(), *this, ": ", problem);
  register_module("layers", layers_);
  for (int64_t l = 0; l < options.num_layers; ++l) {
    const int64_t layer_input = l == 0 ? input_size : num_directions() * hidden_size;
    layers_.emplace_back("LSTMLayer", layer_input, hidden_size, options.bidirectional, options.bias,
                         gen);
  }
}

const LSTMCell& LSTM::cell(int64_t layer, int64_t direction) const {
  const std::string problem =
      cell_index_problem(layer, direction, options_.num_layers, options_.bidirectional);
  check(problem.empty(), *this, ": ", problem);
  return layers_[static_cast<size_t>(layer)].cell(direction);
}

void LSTM::check_inputs(const Tensor& x, const Tensor& lengths, const LSTMState& initial) const {
  const char* layout = options_.batch_first ? "[batch, time, " : "[time, batch, ";
  check(x.defined(), *this, ": expected input ", layout, input_size_, "], got an undefined tensor");
  check(x.dim() == 3 && x.size(2) == input_size_, *this, ": expected input ", layout, input_size_,
        "], got ", x.shape());
  check(x.dtype() == DType::Float32, *this, ": expected a float32 input, got ",
        to_string(x.dtype()));
  const int64_t batch = x.size(options_.batch_first ? 0 : 1);
  const int64_t steps = x.size(options_.batch_first ? 1 : 0);
  check(batch > 0 && steps > 0, *this,
        ": expected at least one sequence of at least one step, got ", x.shape());

  const std::string lengths_wrong = lengths_problem(lengths, batch);
  check(lengths_wrong.empty(), *this, ": ", lengths_wrong);
  check_length_values(lengths, steps, "LSTM");

  check(initial.h.defined() == initial.c.defined(), *this,
        ": initial state: h0 and c0 must be both given or both left out");
  if (initial.h.defined()) {
    const Shape want{options_.num_layers * num_directions(), batch, hidden_size_};
    check(initial.h.shape() == want && initial.c.shape() == want, *this,
          ": expected initial h0 and c0 [layers*directions, batch, hidden] = ", want, ", got ",
          initial.h.shape(), " and ", initial.c.shape());
  }
}

LSTMOutput LSTM::forward(const Tensor& x, const LSTMState& initial, const Tensor& lengths) const {
  check_inputs(x, lengths, initial);
  // Time-major inside: select(sequence, 0, t) is then a view, not a copy.
  Tensor sequence = options_.batch_first ? transpose(x, 0, 1) : x;
  const int64_t steps = sequence.size(0), batch = sequence.size(1);
  const Device device = x.device();

  const std::vector<Tensor> masks = step_masks(lengths, steps, device);

  std::vector<Tensor> final_h, final_c;
  for (int64_t l = 0; l < options_.num_layers; ++l) {
    if (l > 0) sequence = dropout(sequence, options_.dropout, is_training(), *dropout_generator_);
    std::vector<Tensor> direction_outputs;
    for (int64_t d = 0; d < num_directions(); ++d) {
      const int64_t index = l * num_directions() + d;
      LSTMState state = initial.h.defined()
                            ? LSTMState{select(initial.h, 0, index), select(initial.c, 0, index)}
                            : cell(l, d).zero_state(batch, device);
      direction_outputs.push_back(
          run_direction(cell(l, d), sequence, masks, /*reverse=*/d == 1, state));
      final_h.push_back(state.h);
      final_c.push_back(state.c);
    }
    sequence = direction_outputs.size() == 1 ? direction_outputs[0] : concat(direction_outputs, 2);
  }
  return {options_.batch_first ? transpose(sequence, 0, 1) : sequence, stack(final_h, 0),
          stack(final_c, 0)};
}

}  // namespace tg
