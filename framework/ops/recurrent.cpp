#include "framework/ops/recurrent.h"

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

}  // namespace tg
