// CrossEntropyLoss, MSELoss and SequenceLoss: values from the formula, ignore_index, label
// smoothing, reductions, token weighting of padded sequences, gradcheck and error messages.
#include <doctest/doctest.h>

#include <cmath>

#include "layer_checks.h"
#include "layers/loss.h"

using namespace tg;
using namespace tg::testing;

namespace {

// log softmax of one row, in double.
std::vector<double> log_softmax_row(const std::vector<float>& row) {
  double top = row[0], total = 0;
  for (float v : row) top = std::max<double>(top, v);
  for (float v : row) total += std::exp(v - top);
  std::vector<double> out;
  for (float v : row) out.push_back(v - top - std::log(total));
  return out;
}

// -((1 - s) log p_t + s / C sum_j log p_j)
double token_loss(const std::vector<float>& row, int target, double smoothing = 0) {
  const std::vector<double> lp = log_softmax_row(row);
  double all = 0;
  for (double v : lp) all += v;
  return -((1 - smoothing) * lp[target] + smoothing / static_cast<double>(row.size()) * all);
}

}  // namespace

TEST_CASE("CrossEntropyLoss: mean of -log softmax at the targets, sum and none") {
  const std::vector<float> a{1, 2, 0.5f}, b{-1, 0, 3};
  const Tensor logits = from_vector(std::vector<float>{1, 2, 0.5f, -1, 0, 3}, {2, 3});
  const Tensor targets = from_vector(std::vector<int32_t>{0, 2}, {2});
  const double la = token_loss(a, 0), lb = token_loss(b, 2);
  CHECK(CrossEntropyLoss()(logits, targets).item() == doctest::Approx((la + lb) / 2));
  CHECK(CrossEntropyLoss({.reduction = Reduction::Sum})(logits, targets).item() ==
        doctest::Approx(la + lb));
  const Tensor rows = CrossEntropyLoss({.reduction = Reduction::None})(logits, targets);
  CHECK(rows.shape() == Shape{2});
  check_close(rows, {static_cast<float>(la), static_cast<float>(lb)});
}

TEST_CASE("CrossEntropyLoss: ignore_index drops rows from the sum and the count") {
  const Tensor logits = from_vector(std::vector<float>{1, 2, 0.5f, -1, 0, 3}, {2, 3});
  const Tensor targets = from_vector(std::vector<int32_t>{0, -1}, {2});
  CrossEntropyLoss criterion({.ignore_index = -1});
  CHECK(criterion(logits, targets).item() == doctest::Approx(token_loss({1, 2, 0.5f}, 0)));
}

TEST_CASE("CrossEntropyLoss: label smoothing mixes in the uniform target") {
  const Tensor logits = from_vector(std::vector<float>{1, 2, 0.5f, -1}, {1, 4});
  const Tensor targets = from_vector(std::vector<int32_t>{1}, {1});
  CrossEntropyLoss criterion({.label_smoothing = 0.2f});
  CHECK(criterion(logits, targets).item() == doctest::Approx(token_loss({1, 2, 0.5f, -1}, 1, 0.2)));
  CHECK_THROWS_WITH_AS(
      CrossEntropyLoss({.label_smoothing = 1.5f}),
      doctest::Contains("CrossEntropyLoss: label_smoothing must be in [0, 1], got 1.5"), Error);
}

TEST_CASE("CrossEntropyLoss passes gradcheck, with smoothing and an ignored row") {
  const Tensor logits = random_leaf({4, 5}, 1);
  const Tensor targets = from_vector(std::vector<int32_t>{0, 4, 9, 2}, {4});
  CrossEntropyLoss criterion({.ignore_index = 9, .label_smoothing = 0.1f});
  const GradcheckResult r =
      gradcheck([&](const std::vector<Tensor>& in) { return criterion(in[0], targets); }, {logits});
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("MSELoss: mean, sum and none of squared differences, gradcheck, shape check") {
  const Tensor prediction = from_vector(std::vector<float>{1, 2, 3, 4}, {2, 2});
  const Tensor target = from_vector(std::vector<float>{1, 0, 5, 1}, {2, 2});
  CHECK(MSELoss()(prediction, target).item() == doctest::Approx((0 + 4 + 4 + 9) / 4.0));
  CHECK(MSELoss(Reduction::Sum)(prediction, target).item() == doctest::Approx(17.0));
  check_close(MSELoss(Reduction::None)(prediction, target), {0, 4, 4, 9});

  const GradcheckResult r =
      gradcheck([&](const std::vector<Tensor>& in) { return MSELoss()(in[0], in[1]); },
                {random_leaf({3, 2}, 2), random_leaf({3, 2}, 3)});
  CHECK_MESSAGE(r.ok, r.report);
  CHECK_THROWS_WITH_AS(
      MSELoss()(prediction, zeros({2})),
      doctest::Contains(
          "mse_loss: prediction of shape [2,2] and target of shape [2] must have the same shape"),
      Error);
}

TEST_CASE("SequenceLoss: sum over real tokens / number of real tokens, padding ignored") {
  // Batch of two sequences of length 3, vocabulary 4, pad id 0: 2 real tokens, then 1.
  Generator gen(4);
  const Tensor logits = randn({2, 3, 4}, gen);
  const Tensor targets = from_vector(std::vector<int32_t>{1, 3, 0, 2, 0, 0}, {2, 3});
  const std::vector<float> v = logits.to_vector<float>();
  auto row = [&](int b, int t) {
    return std::vector<float>(v.begin() + (b * 3 + t) * 4, v.begin() + (b * 3 + t + 1) * 4);
  };
  const double l00 = token_loss(row(0, 0), 1), l01 = token_loss(row(0, 1), 3),
               l10 = token_loss(row(1, 0), 2);
  SequenceLoss criterion(/*pad_id=*/0);
  const float loss = criterion(logits, targets).item();
  CHECK(loss == doctest::Approx((l00 + l01 + l10) / 3));
  // Not the mean of per-sequence means, which would over-weigh the short sequence.
  CHECK(loss != doctest::Approx(((l00 + l01) / 2 + l10) / 2));
  CHECK(sequence_cross_entropy(logits, targets, 0).item() == doctest::Approx(loss));

  SequenceLoss smoothed(0, 0.1f);
  CHECK(smoothed(logits, targets).item() ==
        doctest::Approx((token_loss(row(0, 0), 1, 0.1) + token_loss(row(0, 1), 3, 0.1) +
                         token_loss(row(1, 0), 2, 0.1)) /
                        3));

  // A batch made only of padding gives 0, not NaN.
  CHECK(criterion(logits, zeros({2, 3}, DType::Int32)).item() == 0.0f);
}

TEST_CASE("SequenceLoss: gradcheck, and padded positions get zero gradient") {
  const Tensor logits = random_leaf({2, 3, 4}, 5);
  const Tensor targets = from_vector(std::vector<int32_t>{1, 3, 0, 2, 0, 0}, {2, 3});
  SequenceLoss criterion(0, 0.1f);
  const GradcheckResult r =
      gradcheck([&](const std::vector<Tensor>& in) { return criterion(in[0], targets); }, {logits});
  CHECK_MESSAGE(r.ok, r.report);

  criterion(logits, targets).backward();
  const std::vector<float> g = logits.grad().to_vector<float>();
  for (int position : {2, 4, 5})  // (0, 2), (1, 1), (1, 2) are padding
    for (int c = 0; c < 4; ++c) CHECK(g[position * 4 + c] == 0.0f);
  CHECK(g[0] != 0.0f);
}

TEST_CASE("SequenceLoss names the shapes it expected") {
  SequenceLoss criterion(0);
  CHECK_THROWS_WITH_AS(criterion(zeros({2, 4}), zeros({2}, DType::Int32)),
                       doctest::Contains("SequenceLoss: expected logits [B, T, V], got [2,4]"),
                       Error);
  CHECK_THROWS_WITH_AS(
      criterion(zeros({2, 3, 4}), zeros({2, 4}, DType::Int32)),
      doctest::Contains("SequenceLoss: expected targets [2, 3] to match logits [2,3,4], got [2,4]"),
      Error);
  CHECK_THROWS_WITH_AS(sequence_cross_entropy(zeros({2, 3, 4}), zeros({3, 3}, DType::Int32), 0),
                       doctest::Contains("sequence_cross_entropy: expected targets [2, 3]"), Error);
  CHECK_THROWS_WITH_AS(
      SequenceLoss(0, -0.5f),
      doctest::Contains("SequenceLoss: label_smoothing must be in [0, 1], got -0.5"), Error);
}
