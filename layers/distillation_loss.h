// Knowledge distillation (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural
// Network"): a student learns from a teacher's whole distribution over the classes, not only
// from the one right answer.
//
//   p_i = the teacher's distribution for token i at temperature T: softmax(v_i / T) for one
//         teacher's logits v_i, or (1/K) sum_k softmax(v_ik / T) for an ensemble of K teachers
//   q_i = softmax(z_i / T), the student's distribution at the same temperature
//   KL(p_i || q_i) = sum_j p_ij (log p_ij - log q_ij)          (0 log 0 = 0)
//   CE_i = -sum_j y_ij log softmax(z_i)_j,  y_i = (1 - s) one_hot(target_i) + s / C
//   loss = (1 / N) sum_{i : target_i != ignore_index} [ alpha T^2 KL(p_i || q_i) + (1 - alpha) CE_i
//   ]
//
// N counts the real (non-ignored) tokens; an ignored token adds nothing to either part.
// Derivative with respect to the student's logits (p is a constant: no gradient reaches a
// teacher):
//   d KL(p || q) / d z_j = (q_j - p_j) / T,   so   d (T^2 KL) / d z_j = T (q_j - p_j)
//   d CE / d z_j = softmax(z)_j - y_j
// The soft gradient shrinks as 1/T^2 when T grows (q - p itself shrinks as 1/T); the T^2 factor
// keeps it at the hard term's scale, so changing T does not silently reweigh the two parts.
//
//   SoftTargets teacher = soft_targets({teacher_a_logits, teacher_b_logits}, /*temperature=*/2);
//   Tensor loss = distillation_loss(student_logits, teacher, targets,
//                                   {.alpha = 0.5f, .ignore_index = pad_id});
#pragma once

#include <vector>

#include "framework/ops/nn.h"
#include "layers/module.h"

namespace tg {

// A teacher's (or an ensemble's) softened distribution [..., C] and the temperature it was
// softened at; the probabilities carry no gradient.
struct SoftTargets {
  Tensor probabilities;
  float temperature = 1.0f;

  // Probabilities made elsewhere (an ensemble averaged by hand, read from a file), checked once
  // here: entries in [0, 1] and every row summing to 1 (within 1e-3). Copies two scalars to the
  // host.
  static SoftTargets from_probabilities(const Tensor& probabilities, float temperature);
};

// The mean over teachers of softmax(logits_k / T): one teacher is an ensemble of one. Every
// logits tensor must have the same shape [..., C]; nothing is recorded on the tape.
SoftTargets soft_targets(const std::vector<Tensor>& teacher_logits, float temperature);

struct DistillationOptions {
  float alpha = 0.5f;            // weight of the soft (teacher) part, in [0, 1]
  int64_t ignore_index = -100;   // targets equal to this are padding: no loss, no gradient
  float label_smoothing = 0.0f;  // of the hard part's target, in [0, 1]
};

// student_logits [..., C], teacher.probabilities [..., C], targets Int32 [...]: the loss above,
// a scalar. Throws tg::Error on mismatched shapes, T <= 0, alpha or smoothing outside [0, 1], and
// when every target is ignore_index (there is no token to average over; this check copies one
// scalar to the host per call).
Tensor distillation_loss(const Tensor& student_logits, const SoftTargets& teacher,
                         const Tensor& targets, const DistillationOptions& options = {});

// The same as a module, its options checked once at construction.
struct DistillationLoss : Module {
  explicit DistillationLoss(const DistillationOptions& options = {});
  Tensor forward(const Tensor& student_logits, const SoftTargets& teacher,
                 const Tensor& targets) const;
  Tensor operator()(const Tensor& student_logits, const SoftTargets& teacher,
                    const Tensor& targets) const {
    return forward(student_logits, teacher, targets);
  }
  DistillationOptions options;
};

}  // namespace tg
