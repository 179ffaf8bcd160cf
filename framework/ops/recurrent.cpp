#include "framework/ops/recurrent.h"

#include <cstddef>

#include "framework/backend/backend.h"
#include "framework/ops/checks.h"
#include "framework/tape.h"

namespace tg {

LSTMPointwise lstm_pointwise(const Tensor& gates, const Tensor& c_prev) {
  check_float(gates, "lstm_pointwise");
  check_float(c_prev, "lstm_pointwise");
  check_same_device(gates, c_prev, "lstm_pointwise");
  // Sizes compared one by one: this runs every time step, and a Shape would be an allocation.
  check(c_prev.dim() == 2 && gates.dim() == 2 && gates.size(0) == c_prev.size(0) &&
            gates.size(1) == 4 * c_prev.size(1),
        "lstm_pointwise: expected gates [B, 4H] and c_prev [B, H], got ", gates.shape(), " and ",
        c_prev.shape());
  LSTMCellResult step = backend_of(gates).lstm_cell(gates, c_prev);
  const std::vector<Tensor> outputs = record_multi(
      "lstm_pointwise", {gates, c_prev}, {step.h, step.c}, {step.activations, c_prev, step.c},
      [](const Saved& s, const std::vector<Tensor>& grads) -> Grads {
        LSTMCellGrads g = backend_of(s[0]).lstm_cell_backward(s[0], s[1], s[2], grads[0], grads[1]);
        return {g.gates, g.c_prev};
      });
  return {outputs[0], outputs[1]};
}

namespace {

void check_lstm_sequence(const Tensor& input_gates, const Tensor& w_hidden, const Tensor& h0,
                         const Tensor& c0, const std::vector<Tensor>& step_masks) {
  const char* op = "lstm_sequence";
  for (const Tensor* t : {&input_gates, &w_hidden, &h0, &c0}) {
    check_float(*t, op);
    check_same_device(input_gates, *t, op);
  }
  check(w_hidden.dim() == 2 && w_hidden.size(0) == 4 * w_hidden.size(1), op,
        ": expected w_hidden [4H, H], got ", w_hidden.shape());
  const int64_t hidden = w_hidden.size(1);
  check(input_gates.dim() == 3 && input_gates.size(2) == 4 * hidden, op,
        ": expected input_gates [T, B, ", 4 * hidden, "], got ", input_gates.shape());
  check(input_gates.size(0) > 0, op, ": expected at least one step, got ", input_gates.shape());
  const Shape state{input_gates.size(1), hidden};
  check(h0.shape() == state && c0.shape() == state, op, ": expected h0 and c0 ", state, ", got ",
        h0.shape(), " and ", c0.shape());
  check(step_masks.empty() || static_cast<int64_t>(step_masks.size()) == input_gates.size(0), op,
        ": expected no step masks or one per step (", input_gates.size(0), "), got ",
        step_masks.size());
  for (const Tensor& mask : step_masks) {
    check_int(mask, op, "a step mask");
    check(mask.shape() == Shape{input_gates.size(1), 1}, op, ": expected step masks [",
          input_gates.size(1), ", 1], got ", mask.shape());
  }
}

}  // namespace

// Saved, in order: w_hidden, the states entering each step H_prev [T, B, H], then per step t
// (in time order) the gate activations, c_{t-1} and the cell's new c, then the step masks.
LSTMSequence lstm_sequence(const Tensor& input_gates, const Tensor& w_hidden, const Tensor& h0,
                           const Tensor& c0, const std::vector<Tensor>& step_masks, bool reverse) {
  check_lstm_sequence(input_gates, w_hidden, h0, c0, step_masks);
  Backend& backend = backend_of(input_gates);
  const int64_t steps = input_gates.size(0), batch = input_gates.size(1);
  const int64_t hidden = w_hidden.size(1), gate_width = 4 * hidden;
  const bool masked = !step_masks.empty();
  const Shape state_shape{batch, hidden}, gates_shape{batch, gate_width};
  const Tensor zero = zeros({}, DType::Float32, input_gates.device());

  // What the backward needs is kept only when the op will be recorded: under NoGradGuard (in
  // decoding, say) each step's activations are freed as soon as the next step has run.
  const bool recorded = will_record({input_gates, w_hidden, h0, c0});
  const Tensor outputs = empty({steps, batch, hidden}, DType::Float32, input_gates.device());
  Tensor h_prev_all;
  Saved saved;
  if (recorded) {
    h_prev_all = empty({steps, batch, hidden}, DType::Float32, input_gates.device());
    saved.resize(static_cast<size_t>(2 + 3 * steps));
    saved[0] = w_hidden;
    saved[1] = h_prev_all;
  }
  Tensor h = h0, c = c0;
  for (int64_t k = 0; k < steps; ++k) {
    const int64_t t = reverse ? steps - 1 - k : k;
    if (recorded) backend.copy(h, make_view(h_prev_all, state_shape, t * batch * hidden));
    // gates = input_gates_t + h W_h^T: a copy of the step's row block, then gemm with beta = 1.
    const Tensor gates = empty(gates_shape, DType::Float32, input_gates.device());
    backend.copy(make_view(input_gates, gates_shape, t * batch * gate_width), gates);
    backend.gemm(false, true, batch, gate_width, hidden, 1.0f, h, 0, w_hidden, 0, 1.0f, gates, 0,
                 1);
    const LSTMCellResult step = backend.lstm_cell(gates, c);
    if (recorded) {
      const auto at = static_cast<size_t>(2 + 3 * t);
      saved[at] = step.activations;
      saved[at + 1] = c;
      saved[at + 2] = step.c;
    }
    const Tensor output_t = make_view(outputs, state_shape, t * batch * hidden);
    if (masked) {  // a padded row keeps its state and outputs 0
      const Tensor& real = step_masks[static_cast<size_t>(t)];
      backend.copy(backend.where(real, step.h, zero, state_shape), output_t);
      h = backend.where(real, step.h, h, state_shape);
      c = backend.where(real, step.c, c, state_shape);
    } else {
      backend.copy(step.h, output_t);
      h = step.h;
      c = step.c;
    }
  }
  if (!recorded) return {outputs, h, c};
  saved.insert(saved.end(), step_masks.begin(), step_masks.end());

  MultiBackwardFn backward = [steps, batch, hidden, reverse, masked](
                                 const Saved& s, const std::vector<Tensor>& grads) -> Grads {
    const Tensor& w_hidden = s[0];
    const Tensor& h_prev_all = s[1];
    Backend& backend = backend_of(w_hidden);
    const int64_t gate_width = 4 * hidden;
    const Shape state_shape{batch, hidden}, gates_shape{batch, gate_width};
    const Device device = w_hidden.device();
    const Tensor zero = zeros({}, DType::Float32, device);
    const Tensor& grad_outputs = grads[0];  // each may be undefined: no gradient reached it
    Tensor dh = grads[1].defined() ? grads[1] : zeros(state_shape, DType::Float32, device);
    Tensor dc = grads[2].defined() ? grads[2] : zeros(state_shape, DType::Float32, device);
    const Tensor d_gates = empty({steps, batch, gate_width}, DType::Float32, device);
    for (int64_t k = steps - 1; k >= 0; --k) {
      const int64_t t = reverse ? steps - 1 - k : k;
      const auto at = static_cast<size_t>(2 + 3 * t);
      // dh reaching the cell's h at step t: the carried dh, plus the output's gradient.
      Tensor dh_cell = dh;
      if (grad_outputs.defined())
        dh_cell = backend.binary(BinaryOp::Add, dh,
                                 make_view(grad_outputs, state_shape, t * batch * hidden));
      Tensor dc_cell = dc;
      const Tensor* real = nullptr;
      if (masked) {  // padded rows: the cell gets nothing, the carried gradients pass through
        real = &s[static_cast<size_t>(2 + 3 * steps + t)];
        dh_cell = backend.where(*real, dh_cell, zero, state_shape);
        dc_cell = backend.where(*real, dc, zero, state_shape);
      }
      const LSTMCellGrads cell =
          backend.lstm_cell_backward(s[at], s[at + 1], s[at + 2], dh_cell, dc_cell);
      const Tensor d_gates_t = make_view(d_gates, gates_shape, t * batch * gate_width);
      backend.copy(cell.gates, d_gates_t);
      // dh_{t-1} = dgates_t W_h (+ the carried dh on padded rows)
      const Tensor dh_prev = empty(state_shape, DType::Float32, device);
      backend.gemm(false, false, batch, hidden, gate_width, 1.0f, cell.gates, 0, w_hidden, 0, 0.0f,
                   dh_prev, 0, 1);
      if (masked) {
        dh = backend.where(*real, dh_prev, dh, state_shape);
        dc = backend.where(*real, cell.c_prev, dc, state_shape);
      } else {
        dh = dh_prev;
        dc = cell.c_prev;
      }
    }
    // dW_h = dG^T H_prev over all T*B rows at once.
    const Tensor d_w_hidden = empty({gate_width, hidden}, DType::Float32, device);
    backend.gemm(true, false, gate_width, hidden, steps * batch, 1.0f, d_gates, 0, h_prev_all, 0,
                 0.0f, d_w_hidden, 0, 1);
    return {d_gates, d_w_hidden, dh, dc};
  };
  const std::vector<Tensor> results =
      record_multi("lstm_sequence", {input_gates, w_hidden, h0, c0}, {outputs, h, c},
                   std::move(saved), std::move(backward));
  return {results[0], results[1], results[2]};
}

}  // namespace tg
