#include "layers/loss.h"

namespace tg {

CrossEntropyLoss::CrossEntropyLoss(const CrossEntropyOptions& options)
    : Module("CrossEntropyLoss"), options(options) {
  check(options.label_smoothing >= 0.0f && options.label_smoothing <= 1.0f, *this,
        ": label_smoothing must be in [0, 1], got ", options.label_smoothing);
}

Tensor CrossEntropyLoss::forward(const Tensor& logits, const Tensor& targets) const {
  return cross_entropy(logits, targets, options);
}

MSELoss::MSELoss(Reduction reduction) : Module("MSELoss"), reduction(reduction) {}

Tensor MSELoss::forward(const Tensor& prediction, const Tensor& target) const {
  return mse_loss(prediction, target, reduction);
}

namespace {

// who: the op's name, or the layer (*this), streamed only if a check fails.
template <class Who>
void check_sequence_shapes(const Who& who, const Tensor& logits, const Tensor& targets) {
  check(logits.defined() && targets.defined(), who, ": got an undefined tensor");
  check(logits.dim() == 3, who, ": expected logits [B, T, V], got ", logits.shape());
  check(
      targets.dim() == 2 && targets.size(0) == logits.size(0) && targets.size(1) == logits.size(1),
      who, ": expected targets [", logits.size(0), ", ", logits.size(1), "] to match logits ",
      logits.shape(), ", got ", targets.shape());
}

}  // namespace

// cross_entropy's Mean already divides by the count of non-ignored targets (and by 1 when there
// are none), which is exactly "sum over real tokens / number of real tokens".
Tensor sequence_cross_entropy(const Tensor& logits, const Tensor& targets, int64_t pad_id,
                              float label_smoothing) {
  check_sequence_shapes("sequence_cross_entropy", logits, targets);
  return cross_entropy(
      logits, targets,
      {.ignore_index = pad_id, .label_smoothing = label_smoothing, .reduction = Reduction::Mean});
}

SequenceLoss::SequenceLoss(int64_t pad_id, float label_smoothing)
    : Module("SequenceLoss"), pad_id(pad_id), label_smoothing(label_smoothing) {
  check(label_smoothing >= 0.0f && label_smoothing <= 1.0f, *this,
        ": label_smoothing must be in [0, 1], got ", label_smoothing);
}

Tensor SequenceLoss::forward(const Tensor& logits, const Tensor& targets) const {
  check_sequence_shapes(*this, logits, targets);
  return sequence_cross_entropy(logits, targets, pad_id, label_smoothing);
}

}  // namespace tg
