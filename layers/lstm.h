// LSTM: a stack of LSTM layers run over whole sequences, optionally bidirectional, with
// variable-length batches.
//
// Layer l reads the outputs of layer l-1 (the input x for l = 0), after dropout when training
// and l > 0. A bidirectional layer runs a second cell from the end of each sequence to its start
// and concatenates the two outputs per step: [h_forward(t), h_backward(t)], so the next layer
// (and the output) has D*H features, D = 2 directions, or 1.
//
// Parameter names (stable: checkpoints use them):
//   layers.<l>.forward.weight   [4H, I_l+H]   I_0 = input_size, I_l = D*H above the first
//   layers.<l>.forward.bias     [4H]
//   layers.<l>.backward.weight  (bidirectional only)
//   layers.<l>.backward.bias
// Each is an LSTMCell; see lstm_cell.h for the gate equations and how they map to PyTorch's.
//
// Variable lengths. lengths (Int32 [B], values in [1, T]) says how many leading steps of each
// sequence are real; the rest is padding. At a padded step (t >= lengths[b]) the state of
// sequence b is carried unchanged, its output is zero, and the padded input receives no
// gradient: each step computes the cell for the whole batch and keeps, per row,
//   state = where(t < lengths, new_state, old_state)
// (where sends the gradient only to the branch it picked). So the final state of each sequence
// is its state after its own last real step, and the backward direction, run from t = T-1 down
// to 0, starts updating only at t = lengths[b] - 1: it reads each sequence reversed within its
// own length, exactly as if the sequence had been given alone, unpadded.
//
// Initial and final states are [L*D, B, H], indexed by l*D + d (d = 0 forward, 1 backward),
// as in PyTorch.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "framework/random.h"
#include "framework/tensor.h"
#include "layers/lstm_cell.h"
#include "layers/module.h"
#include "layers/sequence_steps.h"
#include "layers/sequential.h"

namespace tg {

struct LSTMOptions {
  int64_t num_layers = 1;
  bool batch_first = true;  // x and output are [B, T, .]; false: [T, B, .]
  float dropout = 0.0f;     // on the inputs of layers 1..L-1, in training only
  bool bidirectional = false;
  bool bias = true;
};

struct LSTMOutput {
  Tensor output;  // [B, T, D*H] (batch_first) or [T, B, D*H]; zero at padded steps
  Tensor h, c;    // [L*D, B, H]: each sequence's state after its last real step
};

class LSTM : public Module {
 public:
  // Draws every cell's weights from gen (layer by layer, forward before backward) and keeps a
  // reference to gen for dropout, so gen must outlive the LSTM.
  LSTM(int64_t input_size, int64_t hidden_size, LSTMOptions options = {},
       Generator& gen = default_generator());

  // x [B, T, I] (or [T, B, I]); initial {h0, c0} each [L*D, B, H] (zeros when not given), in
  // PyTorch's place: lstm(x, {h0, c0}); lengths Int32 [B] (every sequence has T steps when not
  // given). Any of the two may be left out without a {} in its place:
  //   lstm(x)   lstm(x, lengths)   lstm(x, {h0, c0})   lstm(x, {h0, c0}, lengths)
  LSTMOutput forward(const Tensor& x, const LSTMState& initial, const Tensor& lengths) const;
  LSTMOutput forward(const Tensor& x, const LSTMState& initial) const {
    return forward(x, initial, Tensor());
  }
  LSTMOutput forward(const Tensor& x, const Tensor& lengths) const {
    return forward(x, LSTMState{}, lengths);
  }
  LSTMOutput forward(const Tensor& x) const { return forward(x, LSTMState{}, Tensor()); }
  LSTMOutput operator()(const Tensor& x, const LSTMState& initial, const Tensor& lengths) const {
    return forward(x, initial, lengths);
  }
  LSTMOutput operator()(const Tensor& x, const LSTMState& initial) const {
    return forward(x, initial);
  }
  LSTMOutput operator()(const Tensor& x, const Tensor& lengths) const {
    return forward(x, lengths);
  }
  LSTMOutput operator()(const Tensor& x) const { return forward(x); }

  // The cell of layer `layer`, direction 0 (forward) or 1 (backward, when bidirectional).
  const LSTMCell& cell(int64_t layer, int64_t direction = 0) const;

  int64_t input_size() const { return input_size_; }
  int64_t hidden_size() const { return hidden_size_; }
  int64_t num_directions() const { return options_.bidirectional ? 2 : 1; }
  const LSTMOptions& options() const { return options_; }

 private:
  using Layer = BidirectionalCells<LSTMCell>;

  void check_inputs(const Tensor& x, const Tensor& lengths, const LSTMState& initial) const;

  int64_t input_size_, hidden_size_;
  LSTMOptions options_;
  Generator* dropout_generator_;
  ModuleList<Layer> layers_;  // "layers.<l>."
};

}  // namespace tg
