// What the recurrent layers (LSTM, GRU) share to run variable-length batches step by step.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "framework/random.h"
#include "framework/tensor.h"
#include "layers/module.h"

namespace tg {

// One layer of a recurrent stack: its forward cell and, when bidirectional, its backward cell,
// registered as "forward" and "backward" (so the stack's names read layers.<l>.forward.*).
template <class Cell>
struct BidirectionalCells : Module {
  Cell forward_cell;
  std::unique_ptr<Cell> backward_cell;

  BidirectionalCells(const std::string& type_name, int64_t input_size, int64_t hidden_size,
                     bool bidirectional, bool bias, Generator& gen)
      : Module(type_name), forward_cell(input_size, hidden_size, bias, gen) {
    register_module("forward", forward_cell);
    if (bidirectional) {
      backward_cell = std::make_unique<Cell>(input_size, hidden_size, bias, gen);
      register_module("backward", *backward_cell);
    }
  }
  const Cell& cell(int64_t direction) const {
    return direction == 0 ? forward_cell : *backward_cell;
  }
};

// What is wrong with a recurrent stack's sizes and options, or "" (the layer prefixes its name).
std::string recurrent_options_problem(int64_t input_size, int64_t hidden_size, int64_t num_layers,
                                      float dropout);
// What is wrong with asking a stack for the cell of (layer, direction), or "".
std::string cell_index_problem(int64_t layer, int64_t direction, int64_t num_layers,
                               bool bidirectional);
// What is wrong with the form of lengths (if defined) for `batch` sequences: they must be int32
// [batch]; "" when fine. Their values are checked by check_length_values.
std::string lengths_problem(const Tensor& lengths, int64_t batch);
// Every length (if defined) in [1, steps], checked where the lengths live (no copy to the host):
// "<layer_type>: length <v> at sequence <b> is out of range [1, steps]".
void check_length_values(const Tensor& lengths, int64_t steps, const char* layer_type);

// For lengths Int32 [B] (checked by the layer: values in [1, steps]) over `steps` time steps:
// one Int32 [B, 1] mask per step, nonzero where step t is real (t < lengths[b]). Empty when
// lengths is undefined or no sequence is shorter than steps, so the unpadded case pays nothing.
std::vector<Tensor> step_masks(const Tensor& lengths, int64_t steps, Device device);

}  // namespace tg
