// GRUCell: one step of a gated recurrent unit (Cho et al., 2014), exactly as PyTorch's
// nn.GRUCell: its gate order r, z, n, its parameter names and shapes, its two biases.
//
//   gi = x W_ih^T + b_ih              W_ih: [3H, I]   rows in gate order r, z, n
//   gh = h W_hh^T + b_hh              W_hh: [3H, H]
//   r  = sigmoid(gi_r + gh_r)         reset gate: how much of the old state the candidate sees
//   z  = sigmoid(gi_z + gh_z)         update gate: how much of the old state to keep
//   n  = tanh(gi_n + r * gh_n)        candidate state;  gh_n = W_hn h + b_hn, so r scales b_hn too
//   h' = (1 - z) * n + z * h
//
// Unlike the LSTM's, the two biases are not redundant: b_hn sits inside r * (...), so it cannot
// be folded into b_in. Keeping PyTorch's layout means its weights load as they are:
// weight_ih, weight_hh, bias_ih, bias_hh, by name.
//
// gru_step() is the step from the two halves' products, shared with GRU (which computes the x
// half for all time steps in one product).
#pragma once

#include <cstdint>

#include "framework/random.h"
#include "framework/tensor.h"
#include "layers/module.h"

namespace tg {

// h' from gi = x W_ih^T + b_ih and gh = h W_hh^T + b_hh (each [B, 3H]) and h [B, H].
Tensor gru_step(const Tensor& input_gates, const Tensor& hidden_gates, const Tensor& h);

class GRUCell : public Module {
 public:
  // Every weight and bias starts as U(-1/sqrt(H), 1/sqrt(H)), as in PyTorch.
  GRUCell(int64_t input_size, int64_t hidden_size, bool bias = true,
          Generator& gen = default_generator());

  // x [B, I]; h [B, H], or undefined for zeros. Returns h' [B, H].
  Tensor forward(const Tensor& x, const Tensor& h = {}) const;
  Tensor operator()(const Tensor& x, const Tensor& h = {}) const { return forward(x, h); }

  int64_t input_size() const { return input_size_; }
  int64_t hidden_size() const { return hidden_size_; }

  Tensor weight_ih;  // [3H, I]
  Tensor weight_hh;  // [3H, H]
  Tensor bias_ih;    // [3H], undefined when built with bias = false
  Tensor bias_hh;    // [3H], likewise

 private:
  int64_t input_size_, hidden_size_;
};

}  // namespace tg
