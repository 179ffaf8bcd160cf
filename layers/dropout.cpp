#include "layers/dropout.h"

#include "framework/ops/nn.h"

namespace tg {

Dropout::Dropout(float p, Generator& gen) : UnaryModule("Dropout"), p(p), gen_(gen) {
  // p = 1 would zero everything and scale by 1/0.
  check(p >= 0.0f && p < 1.0f, *this, ": p must be in [0, 1), got ", p);
}

Tensor Dropout::forward(const Tensor& x) const {
  check(x.defined(), *this, ": got an undefined tensor");
  return dropout(x, p, is_training(), gen_);
}

}  // namespace tg
