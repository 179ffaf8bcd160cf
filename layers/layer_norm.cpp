#include "layers/layer_norm.h"

#include "framework/ops/nn.h"

namespace tg {

LayerNorm::LayerNorm(int64_t dim, float eps, bool elementwise_affine)
    : UnaryModule("LayerNorm"), dim(dim), eps(eps) {
  check(dim > 0, *this, ": dim must be positive, got ", dim);
  check(eps >= 0.0f, *this, ": eps must be >= 0, got ", eps);
  if (elementwise_affine) {
    weight = register_parameter("weight", ones({dim}));
    bias = register_parameter("bias", zeros({dim}));
  }
}

Tensor LayerNorm::forward(const Tensor& x) const {
  check(x.defined(), *this, ": expected input [..., ", dim, "], got an undefined tensor");
  check(x.dim() >= 1 && x.size(-1) == dim, *this, ": expected input [..., ", dim, "], got ",
        x.shape());
  return layer_norm(x, weight, bias, eps);
}

}  // namespace tg
