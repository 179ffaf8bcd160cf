#include "layers/gru.h"

#include <string>
#include <vector>

#include "framework/ops/elementwise.h"
#include "framework/ops/matmul.h"
#include "framework/ops/nn.h"
#include "framework/ops/shape.h"
#include "layers/sequence_steps.h"

namespace tg {
namespace {

// One direction of one layer over a time-major sequence [T, B, F]; step_masks[t] is Int32
// [B, 1], nonzero where step t is real, or empty when every step is. The x half of the gates,
// x W_ih^T + b_ih, does not depend on the state: one [T*B, F] x [F, 3H] product for all steps
// before the loop; each step multiplies only h. Returns the outputs [T, B, H]; h ends as the
// last state.
Tensor run_direction(const GRUCell& cell, const Tensor& sequence,
                     const std::vector<Tensor>& step_masks, bool reverse, Tensor& h) {
  const int64_t steps = sequence.size(0);
  const std::vector<Tensor> input_gates = unbind(linear(sequence, cell.weight_ih, cell.bias_ih), 0);
  const Tensor zero = zeros({}, DType::Float32, sequence.device());
  std::vector<Tensor> outputs(static_cast<size_t>(steps));
  for (int64_t k = 0; k < steps; ++k) {
    const auto t = static_cast<size_t>(reverse ? steps - 1 - k : k);
    const Tensor next = gru_step(input_gates[t], linear(h, cell.weight_hh, cell.bias_hh), h);
    if (step_masks.empty()) {
      h = outputs[t] = next;
      continue;
    }
    // A padded row keeps its state and outputs zero; where() sends no gradient to the branch it
    // did not pick, so a padded input gets exactly zero gradient.
    h = where(step_masks[t], next, h);
    outputs[t] = where(step_masks[t], next, zero);
  }
  return stack(outputs, 0);
}

}  // namespace

GRU::GRU(int64_t input_size, int64_t hidden_size, GRUOptions options, Generator& gen)
    : Module("GRU"),
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
    layers_.emplace_back("GRULayer", layer_input, hidden_size, options.bidirectional, options.bias,
                         gen);
  }
}

const GRUCell& GRU::cell(int64_t layer, int64_t direction) const {
  const std::string problem =
      cell_index_problem(layer, direction, options_.num_layers, options_.bidirectional);
  check(problem.empty(), *this, ": ", problem);
  return layers_[static_cast<size_t>(layer)].cell(direction);
}

void GRU::check_inputs(const Tensor& x, const Tensor& h0, const Tensor& lengths) const {
  const char* layout = options_.batch_first ? "[batch, time, " : "[time, batch, ";
  check(x.defined(), *this, ": expected input ", layout, input_size_, "], got an undefined tensor");
  check(x.dim() == 3 && x.size(2) == input_size_ && x.dtype() == DType::Float32, *this, ": ",
        "expected a float32 input ", layout, input_size_, "], got ", to_string(x.dtype()), " ",
        x.shape());
  const int64_t batch = x.size(options_.batch_first ? 0 : 1);
  const int64_t steps = x.size(options_.batch_first ? 1 : 0);
  check(batch > 0 && steps > 0, *this,
        ": expected at least one sequence of at least one step, got ", x.shape());
  const std::string lengths_wrong = lengths_problem(lengths, batch);
  check(lengths_wrong.empty(), *this, ": ", lengths_wrong);
  check_length_values(lengths, steps, "GRU");
  if (h0.defined()) {
    const Shape want{options_.num_layers * num_directions(), batch, hidden_size_};
    check(h0.dtype() == DType::Float32 && h0.shape() == want, *this, ": ",
          "expected h0 float32 [layers*directions, batch, hidden] = ", to_string(want), ", got ",
          to_string(h0.dtype()), " ", h0.shape());
  }
}

GRUOutput GRU::forward(const Tensor& x, const Tensor& h0_or_lengths) const {
  const bool is_lengths = h0_or_lengths.defined() && h0_or_lengths.dtype() == DType::Int32;
  return is_lengths ? forward(x, Tensor(), h0_or_lengths) : forward(x, h0_or_lengths, Tensor());
}

GRUOutput GRU::forward(const Tensor& x, const Tensor& h0, const Tensor& lengths) const {
  check_inputs(x, h0, lengths);
  // Time-major inside: select(sequence, 0, t) is then a view, not a copy.
  Tensor sequence = options_.batch_first ? transpose(x, 0, 1) : x;
  const int64_t steps = sequence.size(0), batch = sequence.size(1);
  const Device device = x.device();

  const std::vector<Tensor> masks = step_masks(lengths, steps, device);

  std::vector<Tensor> final_h;
  for (int64_t l = 0; l < options_.num_layers; ++l) {
    if (l > 0) sequence = dropout(sequence, options_.dropout, is_training(), *dropout_generator_);
    std::vector<Tensor> direction_outputs;
    for (int64_t d = 0; d < num_directions(); ++d) {
      const int64_t index = l * num_directions() + d;
      Tensor h = h0.defined() ? select(h0, 0, index)
                              : zeros({batch, hidden_size_}, DType::Float32, device);
      direction_outputs.push_back(
          run_direction(cell(l, d), sequence, masks, /*reverse=*/d == 1, h));
      final_h.push_back(h);
    }
    sequence = direction_outputs.size() == 1 ? direction_outputs[0] : concat(direction_outputs, 2);
  }
  return {options_.batch_first ? transpose(sequence, 0, 1) : sequence, stack(final_h, 0)};
}

}  // namespace tg
