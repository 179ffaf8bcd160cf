#include "layers/linear.h"

#include <cmath>

#include "framework/ops/elementwise.h"
#include "framework/ops/matmul.h"
#include "layers/init.h"

namespace tg {

Linear::Linear(int64_t in_features, int64_t out_features, bool bias, Generator& gen)
    : UnaryModule("Linear"), in_features(in_features), out_features(out_features) {
  check(in_features > 0 && out_features > 0, *this,
        ": in_features and out_features must be positive, got ", in_features, " and ",
        out_features);
  weight = empty({out_features, in_features});
  init::kaiming_uniform_(weight, gen);  // a = sqrt(5): U(-1/sqrt(in), 1/sqrt(in))
  register_parameter("weight", weight);
  if (bias) {
    const float bound = 1.0f / std::sqrt(static_cast<float>(in_features));
    this->bias = empty({out_features});
    init::uniform_(this->bias, -bound, bound, gen);
    register_parameter("bias", this->bias);
  }
}

Tensor Linear::forward(const Tensor& x) const {
  check(x.defined(), *this, ": expected input [..., ", in_features, "], got an undefined tensor");
  check(x.dim() >= 1 && x.size(-1) == in_features, *this, ": expected input [..., ", in_features,
        "], got ", x.shape());
  if (!is_quantized()) return linear(x, weight, bias);
  check(!is_training(), *this,
        ": quantized to int8 for inference, it cannot be trained; call eval() before forward");
  return linear_int8(x, weight_int8, bias, activations);
}

void Linear::quantize_int8(Int8Activations mode) {
  check(!is_quantized(), *this,
        ": already quantized to int8; quantizing again would round the rounded weights");
  weight_int8 = quantize_per_row(weight);
  activations = mode;
  remove_parameter("weight");
  weight = Tensor();
  register_buffer("weight_int8", weight_int8.values);
  register_buffer("weight_scale", weight_int8.scale);
  eval();
}

}  // namespace tg
