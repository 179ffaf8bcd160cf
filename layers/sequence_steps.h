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
// What is wrong with lengths (if defined) for an input x of `batch` sequences of `steps` steps:
// they must be int32 [batch] with values in [1, steps]; "" when fine. Copies them to the host.
std::string lengths_problem(const Tensor& lengths, int64_t batch, int64_t steps, const Shape& x);

// For lengths Int32 [B] (checked by the layer: values in [1, steps]) over `steps` time steps:
// one Int32 [B, 1] mask per step, nonzero where step t is real (t < lengths[b]). Empty when
// lengths is undefined or no sequence is shorter than steps, so the unpadded case pays nothing.
std::vector<Tensor> step_masks(const Tensor& lengths, int64_t steps, Device device);

}  // namespace tg
