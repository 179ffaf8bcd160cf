// Loss functions as modules: each holds its options and names itself in errors.
//
//   CrossEntropyLoss criterion({.ignore_index = pad_id, .label_smoothing = 0.1f});
//   Tensor loss = criterion(logits, targets);
#pragma once

#include "framework/ops/nn.h"
#include "layers/module.h"

namespace tg {

// -sum_j q_j log softmax(logits)_j per row, q = (1 - s) one_hot(target) + s / C, reduced over
// the rows whose target is not ignore_index. logits [N, C] or [..., C], targets int32 [N] / [...].
struct CrossEntropyLoss : Module {
  explicit CrossEntropyLoss(const CrossEntropyOptions& options = {});
  Tensor forward(const Tensor& logits, const Tensor& targets) const;
  Tensor operator()(const Tensor& logits, const Tensor& targets) const {
    return forward(logits, targets);
  }
  CrossEntropyOptions options;
};

// (prediction - target)^2, reduced (mean by default). Shapes must match exactly: a silently
// broadcast target is a classic bug, so it is refused.
struct MSELoss : Module {
  explicit MSELoss(Reduction reduction = Reduction::Mean);
  Tensor forward(const Tensor& prediction, const Tensor& target) const;
  Tensor operator()(const Tensor& prediction, const Tensor& target) const {
    return forward(prediction, target);
  }
  Reduction reduction;
};

// Token-level cross-entropy of padded sequences:
//   loss = sum over real tokens of -log p(target) / number of real tokens,
// where a token is real when its target is not pad_id. Every real token weighs the same, however
// the batch is padded (averaging per sequence first would over-weigh short sequences).
// logits [B, T, V], targets int32 [B, T]. A batch with no real token gives 0, not NaN.
Tensor sequence_cross_entropy(const Tensor& logits, const Tensor& targets, int64_t pad_id,
                              float label_smoothing = 0.0f);

struct SequenceLoss : Module {
  explicit SequenceLoss(int64_t pad_id, float label_smoothing = 0.0f);
  Tensor forward(const Tensor& logits, const Tensor& targets) const;
  Tensor operator()(const Tensor& logits, const Tensor& targets) const {
    return forward(logits, targets);
  }
  int64_t pad_id;
  float label_smoothing;
};

}  // namespace tg
