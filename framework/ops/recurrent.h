// The fused pointwise part of an LSTM step (the matrix product before it is an ordinary matmul).
#pragma once

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

}  // namespace tg
