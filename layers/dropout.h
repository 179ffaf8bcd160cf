// Dropout (Srivastava et al., 2014): while training, zero each element with probability p and
// scale the survivors by 1/(1-p), so the expected output equals the input; in eval mode, the
// identity. The mask comes from the module's Generator, so a seeded run is reproducible.
#pragma once

#include "framework/random.h"
#include "layers/module_unary.h"

namespace tg {

struct Dropout : UnaryModule {
  explicit Dropout(float p, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) const override;

  float p;

 private:
  Generator& gen_;  // drawing a mask advances it, even inside a const forward
};

}  // namespace tg
