// Linear: y = x W^T + b, the affine map at the heart of every network.
#pragma once

#include "framework/ops/quantized.h"
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

  // Int8 inference (layers/quantize.h has the whole story): replaces the float weight by its
  // per-row int8 form (framework/ops/quantized.h). The parameter "weight" becomes the buffers
  // "weight_int8" and "weight_scale", weight is left undefined, and forward runs linear_int8 in
  // eval mode only: a quantized layer cannot be trained. Quantizing twice is an error.
  void quantize_int8(Int8Activations mode);
  bool is_quantized() const { return weight_int8.values.defined(); }

  int64_t in_features, out_features;
  Tensor weight;           // [out, in]; undefined once quantized
  Tensor bias;             // [out], or undefined when built with bias = false
  Int8Matrix weight_int8;  // defined once quantized
  Int8Activations activations = Int8Activations::Float;  // how a quantized forward treats x
};

}  // namespace tg
