#include "layers/distillation_loss.h"

#include <cmath>

#include "framework/tape.h"
#include "framework/tapegrad.h"

namespace tg {

namespace {

template <class Who>
void check_temperature(const Who& who, float temperature) {
  check(std::isfinite(temperature) && temperature > 0.0f, who,
        ": temperature must be a finite number > 0, got ", temperature);
}

// who: the function's name or the layer (*this), streamed only if a check fails.
template <class Who>
void check_options(const Who& who, const DistillationOptions& options) {
  check(options.alpha >= 0.0f && options.alpha <= 1.0f, who, ": alpha must be in [0, 1], got ",
        options.alpha);
  check(options.label_smoothing >= 0.0f && options.label_smoothing <= 1.0f, who,
        ": label_smoothing must be in [0, 1], got ", options.label_smoothing);
}

template <class Who>
void check_shapes(const Who& who, const Tensor& student, const SoftTargets& teacher,
                  const Tensor& targets) {
  check(student.defined() && teacher.probabilities.defined() && targets.defined(), who,
        ": got an undefined tensor");
  check(student.dim() >= 1, who, ": expected student logits [..., C], got a scalar");
  check(teacher.probabilities.shape() == student.shape(), who, ": teacher probabilities ",
        teacher.probabilities.shape(), " must have the student logits' shape ", student.shape());
  Shape expected = student.shape();
  expected.pop_back();
  check(targets.shape() == expected, who, ": expected targets ", expected, " (the student logits ",
        student.shape(), " without the class dim), got ", targets.shape());
  check(targets.dtype() == DType::Int32, who, ": targets must be Int32 class ids");
  check_temperature(who, teacher.temperature);
}

// sum_j p_j log p_j per row, with 0 log 0 = 0: log is taken of max(p, tiny), and p = 0 times any
// finite number is 0. A constant of the loss (the teacher's negative entropy): it makes the value a
// true KL divergence, 0 when the student matches the teacher, and changes no gradient.
Tensor negative_entropy(const Tensor& p) {
  NoGradGuard constant;
  const Tensor tiny = scalar(1e-30f, p.device());
  return sum(p * log(maximum(p, tiny)), {1});
}

template <class Who>
Tensor distill(const Who& who, const Tensor& student_logits, const SoftTargets& teacher,
               const Tensor& targets, const DistillationOptions& options) {
  check_shapes(who, student_logits, teacher, targets);
  const int64_t classes = student_logits.size(-1), rows = targets.numel();
  const Tensor z = student_logits.reshape({rows, classes});
  const Tensor p = teacher.probabilities.detach().reshape({rows, classes});
  const Tensor y = targets.reshape({rows});
  const Device device = student_logits.device();

  // real_i = 1 for a token to learn, 0 for padding; N = sum_i real_i.
  const Tensor ignored = full({}, static_cast<float>(options.ignore_index), DType::Int32, device);
  const Tensor real = ne(y, ignored).to(DType::Float32);
  const Tensor count = sum(real);
  check(count.item() > 0.0f, who, ": every target is ignore_index (", options.ignore_index,
        "): there is no token to average over");

  const float alpha = options.alpha, temperature = teacher.temperature;
  Tensor per_token = zeros({rows}, DType::Float32, device);
  if (alpha > 0.0f) {
    // KL(p || q) = sum_j p_j log p_j - sum_j p_j log q_j, q = softmax(z / T).
    const Tensor cross = -sum(p * log_softmax(z / temperature, 1), {1});
    per_token = (cross + negative_entropy(p)) * (alpha * temperature * temperature);
  }
  if (alpha < 1.0f) {
    const Tensor hard = cross_entropy(z, y,
                                      {.ignore_index = options.ignore_index,
                                       .label_smoothing = options.label_smoothing,
                                       .reduction = Reduction::None});
    per_token = per_token + hard * (1.0f - alpha);
  }
  return sum(per_token * real) / count;
}

}  // namespace

SoftTargets SoftTargets::from_probabilities(const Tensor& probabilities, float temperature) {
  check_temperature("SoftTargets", temperature);
  check(probabilities.defined() && probabilities.dim() >= 1,
        "SoftTargets: expected probabilities [..., C], got ",
        probabilities.defined() ? probabilities.shape() : Shape{});
  NoGradGuard constant;
  const Tensor p = probabilities.detach();
  const float lowest = min(p).item(), highest = max(p).item();
  check(lowest >= 0.0f && highest <= 1.0f,
        "SoftTargets: probabilities must lie in [0, 1], got "
        "values from ",
        lowest, " to ", highest, " (logits? use soft_targets)");
  const Tensor row_sums = sum(p, {-1});
  const float worst = max(abs(row_sums - 1.0f)).item();
  check(worst <= 1e-3f, "SoftTargets: every row of probabilities must sum to 1, one is off by ",
        worst);
  return {p, temperature};
}

SoftTargets soft_targets(const std::vector<Tensor>& teacher_logits, float temperature) {
  check_temperature("soft_targets", temperature);
  check(!teacher_logits.empty(), "soft_targets: expected the logits of at least one teacher");
  NoGradGuard constant;
  Tensor total;
  for (size_t k = 0; k < teacher_logits.size(); ++k) {
    const Tensor& logits = teacher_logits[k];
    check(logits.defined() && logits.dim() >= 1, "soft_targets: teacher ", k,
          ": expected logits [..., C]");
    check(logits.shape() == teacher_logits[0].shape(), "soft_targets: teacher ", k, " has logits ",
          logits.shape(), ", teacher 0 has ", teacher_logits[0].shape(),
          ": an ensemble's teachers must score the same tokens over the same classes");
    const Tensor p = softmax(logits.detach() / temperature, -1);
    total = total.defined() ? total + p : p;
  }
  return {total / static_cast<float>(teacher_logits.size()), temperature};
}

Tensor distillation_loss(const Tensor& student_logits, const SoftTargets& teacher,
                         const Tensor& targets, const DistillationOptions& options) {
  check_options("distillation_loss", options);
  return distill("distillation_loss", student_logits, teacher, targets, options);
}

DistillationLoss::DistillationLoss(const DistillationOptions& options)
    : Module("DistillationLoss"), options(options) {
  check_options(*this, options);
}

Tensor DistillationLoss::forward(const Tensor& student_logits, const SoftTargets& teacher,
                                 const Tensor& targets) const {
  return distill(*this, student_logits, teacher, targets, options);
}

}  // namespace tg
