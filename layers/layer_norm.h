// LayerNorm (Ba et al., 2016) over the last dim:
//   y = (x - mean) / sqrt(var + eps) * weight + bias,   var biased (divides by dim).
// Each position is normalised on its own, so it behaves the same in training and inference
// and for any batch size or sequence length.
#pragma once

#include "layers/module_unary.h"

namespace tg {

struct LayerNorm : UnaryModule {
  // weight starts at ones and bias at zeros (the identity after normalising); without
  // elementwise_affine both stay undefined and unregistered.
  explicit LayerNorm(int64_t dim, float eps = 1e-5f, bool elementwise_affine = true);
  Tensor forward(const Tensor& x) const override;  // x [..., dim]

  int64_t dim;
  float eps;
  Tensor weight, bias;  // [dim] each
};

}  // namespace tg
