// The distillation loss: a value by hand, values and gradient against PyTorch
// (fixtures/distillation_reference.py), the formula's limits (alpha 0 is the hard loss, a student
// equal to its teacher has KL 0), padding, ensembles, gradcheck, no gradient to a teacher, and
// the error messages.
#include <doctest/doctest.h>

#include <cmath>

#include "layer_checks.h"
#include "layers/distillation_loss.h"
#include "layers/loss.h"
#include "tests/layers/fixtures/distillation_reference.h"

using namespace tg;
using namespace tg::testing;

namespace {

namespace ref = distillation_reference;

Tensor reference_targets() { return from_vector(ref::kTargets, {2, 3}); }

}  // namespace

TEST_CASE("distillation_loss by hand: T^2 KL of a uniform student from a 3/4, 1/4 teacher") {
  // Teacher logits (2 ln 3, 0) at T = 2 give softmax(ln 3, 0) = (3/4, 1/4); the student's (0, 0)
  // give (1/2, 1/2). KL = 3/4 ln(3/2) + 1/4 ln(1/2); the soft part is T^2 KL = 4 KL.
  const Tensor teacher = from_vector({2 * std::log(3.0f), 0}, {1, 2});
  const Tensor student = from_vector({0, 0}, {1, 2});
  const Tensor target = from_vector(std::vector<int32_t>{1}, {1});
  const SoftTargets soft = soft_targets({teacher}, 2.0f);
  check_close(soft.probabilities, {0.75f, 0.25f});
  const double kl = 0.75 * std::log(1.5) + 0.25 * std::log(0.5);
  CHECK(distillation_loss(student, soft, target, {.alpha = 1}).item() == doctest::Approx(4 * kl));
  // alpha mixes in -log softmax(student)_1 = ln 2.
  CHECK(distillation_loss(student, soft, target, {.alpha = 0.25f}).item() ==
        doctest::Approx(0.25 * 4 * kl + 0.75 * std::log(2.0)));
}

TEST_CASE("distillation_loss matches PyTorch: ensemble of two, padding, smoothing, gradient") {
  const Tensor student = from_vector(ref::kStudent, {2, 3, 5}).set_requires_grad();
  const SoftTargets teacher =
      soft_targets({from_vector(ref::kTeacherA, {2, 3, 5}), from_vector(ref::kTeacherB, {2, 3, 5})},
                   ref::kTemperature);
  check_close(teacher.probabilities, ref::kEnsemble);
  DistillationLoss criterion(
      {.alpha = ref::kAlpha, .ignore_index = ref::kPad, .label_smoothing = ref::kSmoothing});
  const Tensor loss = criterion(student, teacher, reference_targets());
  CHECK(loss.item() == doctest::Approx(ref::kLoss).epsilon(1e-5));
  loss.backward();
  check_close(student.grad(), ref::kGradient);
}

TEST_CASE("distillation_loss: alpha 0 is the hard loss alone, alpha 1 of the teacher itself is 0") {
  Generator gen(7);
  const Tensor logits = randn({2, 3, 4}, gen);
  const Tensor targets = from_vector(std::vector<int32_t>{1, 3, 0, 2, 0, 0}, {2, 3});
  const SoftTargets teacher = soft_targets({randn({2, 3, 4}, gen)}, 3.0f);
  CHECK(distillation_loss(logits, teacher, targets,
                          {.alpha = 0, .ignore_index = 0, .label_smoothing = 0.1f})
            .item() == doctest::Approx(sequence_cross_entropy(logits, targets, 0, 0.1f).item()));
  // The student's own distribution as its teacher: KL(q || q) = 0 at any temperature.
  const SoftTargets itself = soft_targets({logits}, 3.0f);
  CHECK(
      std::abs(distillation_loss(logits, itself, targets, {.alpha = 1, .ignore_index = 0}).item()) <
      1e-6f);
}

TEST_CASE("distillation_loss: gradient T (q - p) / N on real tokens, none on padding or teacher") {
  Generator gen(8);
  const Tensor student = randn({1, 3, 4}, gen).set_requires_grad();
  const Tensor teacher_logits = randn({1, 3, 4}, gen).set_requires_grad();
  const Tensor targets = from_vector(std::vector<int32_t>{2, 1, -1}, {1, 3});
  const float temperature = 2.5f;
  const SoftTargets teacher = soft_targets({teacher_logits}, temperature);
  distillation_loss(student, teacher, targets, {.alpha = 1, .ignore_index = -1}).backward();
  CHECK_FALSE(teacher_logits.grad().defined());

  const std::vector<float> q = softmax(student.detach() / temperature, -1).to_vector<float>();
  const std::vector<float> p = teacher.probabilities.to_vector<float>();
  std::vector<float> want(12, 0.0f);
  for (int i = 0; i < 8; ++i) want[i] = temperature * (q[i] - p[i]) / 2;  // 2 real tokens
  check_close(student.grad(), want);
}

TEST_CASE("distillation_loss passes gradcheck, with padding, smoothing and T of 2") {
  const Tensor student = random_leaf({2, 3, 4}, 9);
  const Tensor targets = from_vector(std::vector<int32_t>{1, 3, 0, 2, 0, 0}, {2, 3});
  const SoftTargets teacher = soft_targets({random_leaf({2, 3, 4}, 10)}, 2.0f);
  DistillationLoss criterion({.alpha = 0.4f, .ignore_index = 0, .label_smoothing = 0.1f});
  const GradcheckResult r = gradcheck(
      [&](const std::vector<Tensor>& in) { return criterion(in[0], teacher, targets); }, {student});
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("SoftTargets::from_probabilities takes an averaged ensemble and refuses logits") {
  const Tensor probabilities = from_vector({0.75f, 0.25f}, {1, 2});
  const Tensor student = from_vector({0, 0}, {1, 2});
  const Tensor target = from_vector(std::vector<int32_t>{1}, {1});
  const SoftTargets given = SoftTargets::from_probabilities(probabilities, 2.0f);
  const SoftTargets made = soft_targets({from_vector({2 * std::log(3.0f), 0}, {1, 2})}, 2.0f);
  CHECK(distillation_loss(student, given, target).item() ==
        doctest::Approx(distillation_loss(student, made, target).item()));
  CHECK_THROWS_WITH_AS(SoftTargets::from_probabilities(from_vector({2, -1}, {1, 2}), 1.0f),
                       doctest::Contains("SoftTargets: probabilities must lie in [0, 1], got "
                                         "values from -1 to 2 (logits? use soft_targets)"),
                       Error);
  CHECK_THROWS_WITH_AS(SoftTargets::from_probabilities(from_vector({0.5f, 0.25f}, {1, 2}), 1.0f),
                       doctest::Contains("SoftTargets: every row of probabilities must sum to 1, "
                                         "one is off by 0.25"),
                       Error);
}

TEST_CASE("distillation_loss names what it expected: shapes, temperature, alpha, padding only") {
  const Tensor student = zeros({2, 3, 4});
  const Tensor targets = zeros({2, 3}, DType::Int32);
  const SoftTargets teacher = soft_targets({zeros({2, 3, 4})}, 1.0f);
  CHECK_THROWS_WITH_AS(distillation_loss(student, soft_targets({zeros({2, 3, 5})}, 1.0f), targets),
                       doctest::Contains("distillation_loss: teacher probabilities [2,3,5] must "
                                         "have the student logits' shape [2,3,4]"),
                       Error);
  CHECK_THROWS_WITH_AS(distillation_loss(student, teacher, zeros({2, 4}, DType::Int32)),
                       doctest::Contains("distillation_loss: expected targets [2,3] (the student "
                                         "logits [2,3,4] without the class dim), got [2,4]"),
                       Error);
  CHECK_THROWS_WITH_AS(soft_targets({zeros({2, 3, 4})}, 0.0f),
                       doctest::Contains("soft_targets: temperature must be a finite number > 0, "
                                         "got 0"),
                       Error);
  CHECK_THROWS_WITH_AS(
      distillation_loss(student, SoftTargets{teacher.probabilities, -2.0f}, targets),
      doctest::Contains("distillation_loss: temperature must be a finite number > 0, got -2"),
      Error);
  CHECK_THROWS_WITH_AS(distillation_loss(student, teacher, targets, {.alpha = 1.5f}),
                       doctest::Contains("distillation_loss: alpha must be in [0, 1], got 1.5"),
                       Error);
  CHECK_THROWS_WITH_AS(DistillationLoss({.alpha = -0.1f}),
                       doctest::Contains("DistillationLoss: alpha must be in [0, 1], got -0.1"),
                       Error);
  CHECK_THROWS_WITH_AS(
      DistillationLoss({.label_smoothing = 2}),
      doctest::Contains("DistillationLoss: label_smoothing must be in [0, 1], got 2"), Error);
  CHECK_THROWS_WITH_AS(DistillationLoss({.ignore_index = 0})(student, teacher, targets),
                       doctest::Contains("DistillationLoss: every target is ignore_index (0): "
                                         "there is no token to average over"),
                       Error);
  CHECK_THROWS_WITH_AS(soft_targets({zeros({2, 3, 4}), zeros({2, 4, 4})}, 1.0f),
                       doctest::Contains("soft_targets: teacher 1 has logits [2,4,4], teacher 0 "
                                         "has [2,3,4]: an ensemble's teachers must score the same "
                                         "tokens over the same classes"),
                       Error);
  CHECK_THROWS_WITH_AS(soft_targets({}, 1.0f),
                       doctest::Contains("soft_targets: expected the logits of at least one "
                                         "teacher"),
                       Error);
}
