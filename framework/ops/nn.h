// Neural-network ops with fused kernels: softmax, log_softmax, cross-entropy, nll, mse,
// dropout, layer norm.
#pragma once

#include "framework/random.h"
#include "framework/tensor.h"

namespace tg {

enum class Reduction { None, Mean, Sum };

// Numerically stable softmax along dim: exp(x - max) / sum exp(x - max).
// mask (optional, Int32 or Float32, broadcastable to x): nonzero = keep. Masked entries give 0
// and receive no gradient; a row with every entry masked gives all zeros, never NaN.
Tensor softmax(const Tensor& x, int64_t dim, const Tensor& mask = {});
// log softmax(x) = x - max - log sum exp(x - max). Masked entries give 0 (they are excluded).
Tensor log_softmax(const Tensor& x, int64_t dim, const Tensor& mask = {});

struct CrossEntropyOptions {
  int64_t ignore_index = -100;            // targets equal to this add no loss and get no gradient
  float label_smoothing = 0.0f;           // target = (1 - s) one_hot + s / C
  Reduction reduction = Reduction::Mean;  // Mean divides by the count of non-ignored targets
};
// logits [N, C] (or [..., C], flattened), targets Int32 [N] (or [...]), fused log-softmax+NLL.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets,
                     const CrossEntropyOptions& options = {});
// Negative log-likelihood of log-probabilities [N, C] at Int32 targets [N].
Tensor nll_loss(const Tensor& log_probs, const Tensor& targets, int64_t ignore_index = -100,
                Reduction reduction = Reduction::Mean);
Tensor mse_loss(const Tensor& prediction, const Tensor& target,
                Reduction reduction = Reduction::Mean);

// Zeroes each element with probability p and scales the rest by 1/(1-p), so the mean is kept.
// The identity when !training or p == 0.
Tensor dropout(const Tensor& x, float p, bool training, Generator& gen);
// What dropout multiplies by: 1 / (1 - p) with probability 1 - p, else 0, drawn in one pass.
// For ops that fuse dropout into their kernel (multi_head_attention): they draw the same mask
// tg::dropout would, so the fused and the composed op agree for the same generator.
Tensor dropout_mask(const Shape& shape, float p, Generator& gen, Device device);

// Normalises over the last dim: (x - mean) / sqrt(var + eps) * weight + bias, var biased.
// weight and bias ([last dim]) may be undefined.
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps = 1e-5f);

}  // namespace tg
