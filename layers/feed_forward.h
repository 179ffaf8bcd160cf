// FeedForward: the position-wise MLP of a transformer block (Vaswani et al., 2017),
//   y = down(dropout(act(up(x)))),   up: dim -> hidden,  down: hidden -> dim.
// It acts on each position independently, so x may have any leading dims: [..., dim].
#pragma once

#include "framework/random.h"
#include "layers/activation.h"
#include "layers/dropout.h"
#include "layers/linear.h"

namespace tg {

struct FeedForward : UnaryModule {
  FeedForward(int64_t dim, int64_t hidden, float dropout = 0.0f,
              Activation activation = Activation::Gelu, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) const override;

  Linear up, down;
  Dropout drop;
  Activation activation;
};

}  // namespace tg
