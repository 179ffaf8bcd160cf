// UnaryModule: a Module that maps one tensor to one tensor.
//
// Linear, Dropout, LayerNorm, the activations, FeedForward and Embedding all have this shape,
// so Sequential can chain them and a ModuleList can hold them side by side. Layers with more
// inputs (attention, LSTM, losses) derive from Module directly and name their own forward.
#pragma once

#include "layers/module.h"

namespace tg {

struct UnaryModule : Module {
  using Module::Module;
  virtual Tensor forward(const Tensor& x) const = 0;
  Tensor operator()(const Tensor& x) const { return forward(x); }
};

}  // namespace tg
