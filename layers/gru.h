// GRU: a stack of GRU layers run over whole sequences, optionally bidirectional, with
// variable-length batches; PyTorch's nn.GRU (gate order r, z, n; biases b_ih and b_hh; see
// gru_cell.h for the equations).
//
// Layer l reads the outputs of layer l-1 (the input x for l = 0), after dropout when training
// and l > 0. A bidirectional layer runs a second cell from the end of each sequence to its start
// and concatenates the two outputs per step: [h_forward(t), h_backward(t)], so the next layer
// (and the output) has D*H features, D = 2 directions, or 1.
//
// Parameter names (stable: checkpoints use them), each direction a GRUCell:
//   layers.<l>.forward.weight_ih  [3H, I_l]   I_0 = input_size, I_l = D*H above the first
//   layers.<l>.forward.weight_hh  [3H, H]
//   layers.<l>.forward.bias_ih    [3H]
//   layers.<l>.forward.bias_hh    [3H]
//   layers.<l>.backward.*         (bidirectional only)
// PyTorch's weight_ih_l<l> is layers.<l>.forward.weight_ih, weight_ih_l<l>_reverse is
// layers.<l>.backward.weight_ih, and so on: the same tensors, renamed.
//
// Variable lengths, as the LSTM here and PyTorch's packed sequences: lengths (Int32 [B], values
// in [1, T]) says how many leading steps of each sequence are real. At a padded step the state
// of sequence b is carried unchanged, its output is zero, and the padded input receives no
// gradient (state = where(t < lengths, new, old)). So the final state of each sequence is its
// state after its own last real step, and the backward direction reads each sequence reversed
// within its own length, as if it had been given alone.
//
// The initial and final states are [L*D, B, H], indexed by l*D + d (d = 0 forward, 1 backward).
#pragma once

#include <cstdint>

#include "framework/random.h"
#include "framework/tensor.h"
#include "layers/gru_cell.h"
#include "layers/module.h"
#include "layers/sequence_steps.h"
#include "layers/sequential.h"

namespace tg {

struct GRUOptions {
  int64_t num_layers = 1;
  bool batch_first = true;  // x and output are [B, T, .]; false: [T, B, .]
  float dropout = 0.0f;     // on the inputs of layers 1..L-1, in training only
  bool bidirectional = false;
  bool bias = true;
};

struct GRUOutput {
  Tensor output;  // [B, T, D*H] (batch_first) or [T, B, D*H]; zero at padded steps
  Tensor h;       // [L*D, B, H]: each sequence's state after its last real step
};

class GRU : public Module {
 public:
  // Draws every cell's weights from gen (layer by layer, forward before backward) and keeps a
  // reference to gen for dropout, so gen must outlive the GRU.
  GRU(int64_t input_size, int64_t hidden_size, GRUOptions options = {},
      Generator& gen = default_generator());

  // x [B, T, I] (or [T, B, I]); h0 float32 [L*D, B, H] (zeros when not given), in PyTorch's
  // place; lengths int32 [B] (every sequence has T steps when not given). As with the LSTM,
  // either may be left out without a {} in its place:
  //   gru(x)   gru(x, h0)   gru(x, lengths)   gru(x, h0, lengths)
  // With one extra tensor, its dtype says which it is (the state is float32, lengths int32).
  GRUOutput forward(const Tensor& x, const Tensor& h0, const Tensor& lengths) const;
  GRUOutput forward(const Tensor& x, const Tensor& h0_or_lengths) const;
  GRUOutput forward(const Tensor& x) const { return forward(x, Tensor(), Tensor()); }
  GRUOutput operator()(const Tensor& x, const Tensor& h0, const Tensor& lengths) const {
    return forward(x, h0, lengths);
  }
  GRUOutput operator()(const Tensor& x, const Tensor& h0_or_lengths) const {
    return forward(x, h0_or_lengths);
  }
  GRUOutput operator()(const Tensor& x) const { return forward(x); }

  // The cell of layer `layer`, direction 0 (forward) or 1 (backward, when bidirectional).
  const GRUCell& cell(int64_t layer, int64_t direction = 0) const;

  int64_t input_size() const { return input_size_; }
  int64_t hidden_size() const { return hidden_size_; }
  int64_t num_directions() const { return options_.bidirectional ? 2 : 1; }
  const GRUOptions& options() const { return options_; }

 private:
  using Layer = BidirectionalCells<GRUCell>;

  void check_inputs(const Tensor& x, const Tensor& h0, const Tensor& lengths) const;

  int64_t input_size_, hidden_size_;
  GRUOptions options_;
  Generator* dropout_generator_;
  ModuleList<Layer> layers_;  // "layers.<l>."
};

}  // namespace tg
