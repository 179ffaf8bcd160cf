// Neural-network ops. softmax, log_softmax, cross_entropy and layer_norm run fused kernels
// (backend.h) and record their own backward; nll_loss, mse_loss and dropout are compositions of
// elementwise ops and reductions, so the tape already knows their derivatives.
#include "framework/ops/nn.h"

#include "framework/backend/backend.h"
#include "framework/ops/checks.h"
#include "framework/ops/elementwise.h"
#include "framework/ops/reduce.h"
#include "framework/ops/shape.h"
#include "framework/tape.h"

namespace tg {
namespace {

// A reshape that is not recorded: the fused ops record one record for the whole op, whose
// backward restores the caller's shape itself.
Tensor untracked_reshape(const Tensor& t, const Shape& shape) {
  NoGradGuard no_recording;
  return reshape(t, shape);
}

// NumPy broadcasting of `from` onto exactly `to` (to is not allowed to grow).
bool broadcasts_to(const Shape& from, const Shape& to) {
  if (from.size() > to.size()) return false;
  for (size_t k = 0; k < from.size(); ++k) {
    const int64_t f = from[from.size() - 1 - k], t = to[to.size() - 1 - k];
    if (f != 1 && f != t) return false;
  }
  return true;
}

// The mask as the kernels take it: Int32 of x's shape, nonzero = keep; undefined if none.
Tensor keep_mask(const Tensor& mask, const Tensor& x, const char* op) {
  if (!mask.defined()) return {};
  check_same_device(mask, x, op);
  check(broadcasts_to(mask.shape(), x.shape()), op, ": mask of shape ", mask.shape(),
        " does not broadcast to the input's shape ", x.shape());
  const Tensor keep = mask.dtype() == DType::Int32 ? mask : ne(mask, scalar(0.0f, mask.device()));
  return keep.shape() == x.shape() ? keep : expand(keep, x.shape());
}

// softmax and log_softmax share everything but the flag.
//   softmax backward:     gx = y * (gy - sum_dim(gy * y))
//   log_softmax backward: gx = gy - exp(y) * sum_dim(gy)
// (masked entries excluded from the sums and given 0; see cpu_nn.cpp for the derivation).
Tensor softmax_along(const char* op, const Tensor& x, int64_t dim, const Tensor& mask, bool log) {
  check_float(x, op);
  check(x.dim() >= 1, op, ": needs at least one dimension, got a 0-dim tensor");
  const int64_t d = normalize_dim(dim, x.dim(), op);
  const Tensor keep = keep_mask(mask, x, op);
  Tensor y = backend_of(x).softmax(x, d, keep, log);
  return record(op, {x}, y, /*saved=*/{y, keep},
                [d, log](const Saved& s, const Tensor& gy) -> Grads {
                  return {backend_of(gy).softmax_backward(s[0], gy, d, s[1], log)};
                });
}

// Losses per row, reduced as asked. Mean divides by the rows whose target counts (not
// ignore_index); if none counts, the sum is 0 and so is the mean (0 / max(0, 1)), never NaN.
Tensor reduce_loss(const Tensor& per_row, const Tensor& targets, int64_t ignore_index,
                   Reduction reduction) {
  if (reduction == Reduction::None) return per_row;
  const Tensor total = sum(per_row);
  if (reduction == Reduction::Sum) return total;
  const Device device = targets.device();
  const Tensor ignored = full({}, static_cast<float>(ignore_index), DType::Int32, device);
  const Tensor counted = sum(ne(targets, ignored).to(DType::Float32));
  return total / maximum(counted, scalar(1.0f, device));
}

void check_targets(const char* op, const Tensor& scores, const Tensor& targets,
                   const char* scores_name) {
  check_float(scores, op);
  check_int(targets, op, "targets");
  check_same_device(scores, targets, op);
  check(scores.dim() >= 1 && scores.size(-1) > 0, op, ": ", scores_name,
        " must be [N, C] with C > 0, got shape ", scores.shape());
  const Shape expected(scores.shape().begin(), scores.shape().end() - 1);
  check(targets.shape() == expected, op, ": targets of shape ", targets.shape(), " do not match ",
        scores_name, " of shape ", scores.shape(), " (expected targets of shape ", expected, ")");
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim, const Tensor& mask) {
  return softmax_along("softmax", x, dim, mask, /*log=*/false);
}

Tensor log_softmax(const Tensor& x, int64_t dim, const Tensor& mask) {
  return softmax_along("log_softmax", x, dim, mask, /*log=*/true);
}

// Fused log-softmax + NLL over logits seen as [N, C]. With q = (1 - s) one_hot(t) + s / C,
//   loss_row = -sum_j q_j log softmax(x)_j,   d loss_row / dx = softmax(x) - q.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets,
                     const CrossEntropyOptions& options) {
  check_targets("cross_entropy", logits, targets, "logits");
  const float smoothing = options.label_smoothing;
  check(smoothing >= 0.0f && smoothing <= 1.0f,
        "cross_entropy: label_smoothing must be in [0, 1], got ", smoothing);
  const int64_t classes = logits.size(-1), rows = targets.numel();
  const int64_t ignore_index = options.ignore_index;
  const Tensor flat_targets = untracked_reshape(targets, {rows});
  check_values(flat_targets, {"cross_entropy", "target", "row", 0, classes, false, ignore_index});
  CrossEntropyResult result = backend_of(logits).cross_entropy(
      untracked_reshape(logits, {rows, classes}), flat_targets, ignore_index, smoothing);

  const Tensor per_row =
      record("cross_entropy", {logits}, untracked_reshape(result.loss, targets.shape()),
             /*saved=*/{result.probs, flat_targets},
             [rows, ignore_index, smoothing, logits_shape = logits.shape()](
                 const Saved& s, const Tensor& gy) -> Grads {
               const Tensor gx = backend_of(gy).cross_entropy_backward(
                   s[0], s[1], gy.reshape({rows}), ignore_index, smoothing);
               return {gx.reshape(logits_shape)};
             });
  return reduce_loss(per_row, targets, ignore_index, options.reduction);
}

// loss_row = -log_probs[row, t_row], picked with a 0/1 selector so the tape sees only mul and
// sum: d loss_row / d log_probs[row, c] = -selector[row, c].
Tensor nll_loss(const Tensor& log_probs, const Tensor& targets, int64_t ignore_index,
                Reduction reduction) {
  check_targets("nll_loss", log_probs, targets, "log_probs");
  check(log_probs.dim() == 2, "nll_loss: log_probs must be 2-D [N, C], got shape ",
        log_probs.shape());
  const int64_t rows = log_probs.size(0), classes = log_probs.size(1);
  // A target out of range selects nothing (its row's loss is 0) until the check reports it.
  check_values(targets, {"nll_loss", "target", "row", 0, classes, false, ignore_index});

  const Device device = log_probs.device();
  const Tensor class_ids = arange(classes, DType::Int32, device).reshape({1, classes});
  const Tensor ignored = full({}, static_cast<float>(ignore_index), DType::Int32, device);
  const Tensor counted = ne(targets, ignored).to(DType::Float32).reshape({rows, 1});
  const Tensor selector = eq(targets.reshape({rows, 1}), class_ids).to(DType::Float32) * counted;
  const Tensor per_row = -sum(log_probs * selector, {1});
  return reduce_loss(per_row, targets, ignore_index, reduction);
}

// (prediction - target)^2, reduced; d/dprediction = 2 (prediction - target), from the tape.
Tensor mse_loss(const Tensor& prediction, const Tensor& target, Reduction reduction) {
  check_float(prediction, "mse_loss");
  check_float(target, "mse_loss");
  check_same_device(prediction, target, "mse_loss");
  check(prediction.shape() == target.shape(), "mse_loss: prediction of shape ", prediction.shape(),
        " and target of shape ", target.shape(), " must have the same shape");
  const Tensor difference = prediction - target;
  const Tensor squared = difference * difference;
  if (reduction == Reduction::None) return squared;
  return reduction == Reduction::Sum ? sum(squared) : mean(squared);
}

Tensor dropout_mask(const Shape& shape, float p, Generator& gen, Device device) {
  check(p >= 0.0f && p < 1.0f, "dropout: p must be in [0, 1), got ", p);
  return bernoulli(shape, 1.0f - p, gen, device, 1.0f / (1.0f - p));
}

// y = x * m / (1 - p), m ~ Bernoulli(1 - p) per element, so E[y] = x. The mask is a constant
// to the tape, and mul records dy/dx = m / (1 - p).
Tensor dropout(const Tensor& x, float p, bool training, Generator& gen) {
  check(p >= 0.0f && p < 1.0f, "dropout: p must be in [0, 1), got ", p);
  check_float(x, "dropout");
  if (!training || p == 0.0f) return x;
  return x * dropout_mask(x.shape(), p, gen, x.device());
}

// Fused layer norm over the last dim. The record lists only the inputs that exist (weight and
// bias are optional), and its backward returns a gradient for each of them.
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps) {
  check_float(x, "layer_norm");
  check(x.dim() >= 1 && x.size(-1) > 0,
        "layer_norm: input needs a last dim of size > 0 to normalise over, got shape ", x.shape());
  check(eps >= 0.0f, "layer_norm: eps must be >= 0, got ", eps);
  const int64_t features = x.size(-1);
  for (const auto& [parameter, name] : {std::pair{weight, "weight"}, std::pair{bias, "bias"}}) {
    if (!parameter.defined()) continue;
    check_float(parameter, "layer_norm");
    check_same_device(parameter, x, "layer_norm");
    check(parameter.shape() == Shape{features}, "layer_norm: ", name, " must have shape [",
          features, "] (the input's last dim), got ", parameter.shape());
  }
  LayerNormResult result = backend_of(x).layer_norm(x, weight, bias, eps);

  const bool need_weight_grads = weight.requires_grad() || bias.requires_grad();
  auto grads_of = [need_weight_grads](const Saved& s, const Tensor& gy) {
    return backend_of(gy).layer_norm_backward(gy, s[0], s[1], s[2], s[3], need_weight_grads);
  };
  Saved saved{x, weight, result.mean, result.rstd};
  if (weight.defined() && bias.defined())
    return record("layer_norm", {x, weight, bias}, result.y, std::move(saved),
                  [grads_of](const Saved& s, const Tensor& gy) -> Grads {
                    LayerNormGrads g = grads_of(s, gy);
                    return {g.x, g.weight, g.bias};
                  });
  if (weight.defined())
    return record("layer_norm", {x, weight}, result.y, std::move(saved),
                  [grads_of](const Saved& s, const Tensor& gy) -> Grads {
                    LayerNormGrads g = grads_of(s, gy);
                    return {g.x, g.weight};
                  });
  if (bias.defined())
    return record("layer_norm", {x, bias}, result.y, std::move(saved),
                  [grads_of](const Saved& s, const Tensor& gy) -> Grads {
                    LayerNormGrads g = grads_of(s, gy);
                    return {g.x, g.bias};
                  });
  return record(
      "layer_norm", {x}, result.y, std::move(saved),
      [grads_of](const Saved& s, const Tensor& gy) -> Grads { return {grads_of(s, gy).x}; });
}

}  // namespace tg
