// Linear: y = x W^T + b, the affine map at the heart of every network.
#pragma once

#include "framework/random.h"
#include "layers/module_unary.h"

namespace tg {

struct Linear : UnaryModule {
  // weight and bias start as in PyTorch: U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform with
  // a = sqrt(5) for the weight), so that outputs start with roughly the inputs' scale.
  Linear(int64_t in_features, int64_t out_features, bool bias = true,
         Generator& gen = default_generator());

  // x [..., in] -> [..., out]. Any number of leading dims: matmul folds them into one gemm
  // against W, with W^T never materialised (trans_b). A 1-D x [in] gives [out].
  Tensor forward(const Tensor& x) const override;

  int64_t in_features, out_features;
  Tensor weight;  // [out, in]
  Tensor bias;    // [out], or undefined when built with bias = false
};

}  // namespace tg
