#include "layers/feed_forward.h"

namespace tg {

FeedForward::FeedForward(int64_t dim, int64_t hidden, float dropout, Activation activation,
                         Generator& gen)
    : UnaryModule("FeedForward"),
      up(dim, hidden, /*bias=*/true, gen),
      down(hidden, dim, /*bias=*/true, gen),
      drop(dropout, gen),
      activation(activation) {
  register_module("up", up);
  register_module("down", down);
  register_module("drop", drop);
}

Tensor FeedForward::forward(const Tensor& x) const {
  return down(drop(activate(activation, up(x))));
}

}  // namespace tg
