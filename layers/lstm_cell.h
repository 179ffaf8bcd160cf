// LSTMCell: one step of a long short-term memory (Hochreiter & Schmidhuber, 1997), with the
// forget gate of Gers et al. (2000), in PyTorch's gate order i, f, g, o.
//
// All four gates come from ONE matrix product over the concatenation [x, h]:
//
//   gates = [x, h] W^T + b            W: [4H, I+H], b: [4H], gates: [B, 4H]
//   i = sigmoid(gates[:, 0H:1H])      input gate: how much of the candidate to write
//   f = sigmoid(gates[:, 1H:2H])      forget gate: how much of the old cell to keep
//   g = tanh   (gates[:, 2H:3H])      candidate cell values
//   o = sigmoid(gates[:, 3H:4H])      output gate: how much of the cell to show
//   c' = f * c + i * g
//   h' = o * tanh(c')
//
// This is the same function as PyTorch's x W_ih^T + b_ih + h W_hh^T + b_hh: W is [W_ih, W_hh]
// side by side (columns 0..I-1 multiply x, columns I..I+H-1 multiply h), and PyTorch's two
// biases only ever appear as their sum, so one bias b = b_ih + b_hh is the same model without
// 4H redundant parameters. To load PyTorch weights: weight = cat([W_ih, W_hh], dim=1),
// bias = b_ih + b_hh. One gemm of [B, I+H] x [I+H, 4H] keeps BLAS (or the GPU) busier than two
// smaller ones, at the price of copying x and h into one buffer per step.
//
// lstm_cell() runs the gate nonlinearities and the state update as one fused op
// (framework/ops/recurrent.h); lstm_cell_reference() is the same step composed of primitive ops,
// kept as the reference the fused kernel is tested against.
#pragma once

#include <cstdint>

#include "framework/random.h"
#include "framework/tensor.h"
#include "layers/module.h"

namespace tg {

// The recurrent state: hidden output h and cell memory c, both [B, H] for a cell (and
// [layers * directions, B, H] for a whole LSTM). Undefined tensors mean "all zeros".
struct LSTMState {
  Tensor h, c;
};

// One LSTM step from explicit weights (see the equations above). x [B, I], state.h and
// state.c [B, H] (both defined), weight [4H, I+H], bias [4H] or undefined for no bias.
LSTMState lstm_cell(const Tensor& x, const LSTMState& state, const Tensor& weight,
                    const Tensor& bias);
// The same step op by op: chunk, sigmoid, tanh, mul, add.
LSTMState lstm_cell_reference(const Tensor& x, const LSTMState& state, const Tensor& weight,
                              const Tensor& bias);

class LSTMCell : public Module {
 public:
  // Every weight and bias starts as U(-1/sqrt(H), 1/sqrt(H)), as in PyTorch.
  LSTMCell(int64_t input_size, int64_t hidden_size, bool bias = true,
           Generator& gen = default_generator());

  // x [B, I]; state {h [B, H], c [B, H]}, or {} for zeros. Returns {h', c'}.
  LSTMState forward(const Tensor& x, const LSTMState& state = {}) const;
  LSTMState operator()(const Tensor& x, const LSTMState& state = {}) const {
    return forward(x, state);
  }

  // Zeros h and c of shape [batch, H] on device.
  LSTMState zero_state(int64_t batch, Device device = Device::CPU) const;

  int64_t input_size() const { return input_size_; }
  int64_t hidden_size() const { return hidden_size_; }

  Tensor weight;  // [4H, I+H]: rows in gate order i, f, g, o; columns x then h
  Tensor bias;    // [4H], undefined when built with bias = false

 private:
  int64_t input_size_, hidden_size_;
};

}  // namespace tg
