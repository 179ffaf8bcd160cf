// The fused pointwise part of an LSTM step (the matrix product before it is an ordinary matmul).
#pragma once

#include <vector>

#include "framework/tensor.h"

namespace tg {

struct LSTMPointwise {
  Tensor h, c;
};

// gates [B, 4H]: pre-activations in the order i, f, g, o (input, forget, candidate, output);
// c_prev [B, H].
//   i = sigmoid(gates_i), f = sigmoid(gates_f), g = tanh(gates_g), o = sigmoid(gates_o)
//   c = f * c_prev + i * g,   h = o * tanh(c)
// One kernel forward and one backward; layers/lstm_cell.cpp keeps the same step composed of
// primitive ops as the reference the tests compare it with.
LSTMPointwise lstm_pointwise(const Tensor& gates, const Tensor& c_prev);

struct LSTMSequence {
  Tensor outputs;  // [T, B, H]: h of every step, 0 at padded steps
  Tensor h, c;     // [B, H]: the state after the last real step of each sequence
};

// One direction of an LSTM layer over a whole time-major sequence, as one op.
//   input_gates [T, B, 4H]: x_t W_x^T + b for every step, computed before (one big product);
//   w_hidden [4H, H]; h0, c0 [B, H]; step_masks: empty, or one Int32 [B, 1] per step, nonzero
//   where step t of sequence b is real (a padded step keeps the state and outputs 0);
//   reverse: run t = T-1 .. 0.
// Step t: gates_t = input_gates_t + h_{t-1} W_h^T, then lstm_pointwise (above).
//
// Backward runs the steps in the opposite order (backpropagation through time):
//   dgates_t = lstm_pointwise's backward at step t, given dh_t = dout_t + dh carried from t+1
//   dh_{t-1} = dgates_t W_h (carried),   d input_gates_t = dgates_t,
//   dW_h = sum_t dgates_t^T h_{t-1} = dG^T H_prev: one [4H, T*B] x [T*B, H] product at the
//   end, where composing the steps from ops would make T small products and T additions.
// tests/framework/test_lstm_sequence_op.cpp composes the same steps from linear, lstm_pointwise
// and where: the reference this op must match.
LSTMSequence lstm_sequence(const Tensor& input_gates, const Tensor& w_hidden, const Tensor& h0,
                           const Tensor& c0, const std::vector<Tensor>& step_masks, bool reverse);

}  // namespace tg
