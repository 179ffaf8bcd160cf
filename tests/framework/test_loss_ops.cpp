// cross_entropy (label smoothing, ignore_index, every reduction), nll_loss and mse_loss:
// values by hand, gradcheck, the fused cross-entropy against log_softmax + nll_loss, and every
// error message.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "framework/tapegrad.h"
#include "tests/framework/helpers.h"

using namespace tg;
using tg::testing::all_finite;
using tg::testing::check_close;
using tg::testing::random_tensor;

namespace {

Tensor random_leaf(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, gen).set_requires_grad();
}

// log softmax of one row, in double.
std::vector<double> log_probs_of(const std::vector<float>& row) {
  double max = row[0];
  for (float v : row) max = std::max<double>(max, v);
  double total = 0;
  for (float v : row) total += std::exp(v - max);
  std::vector<double> out;
  for (float v : row) out.push_back(v - max - std::log(total));
  return out;
}

// -(1 - s) log p_t - s / C * sum_j log p_j
float smoothed_loss(const std::vector<float>& row, int target, float s) {
  const std::vector<double> log_p = log_probs_of(row);
  double sum_log_p = 0;
  for (double v : log_p) sum_log_p += v;
  return static_cast<float>(-(1 - s) * log_p[target] - s / row.size() * sum_log_p);
}

}  // namespace

// ---- cross_entropy ----

TEST_CASE("cross_entropy without smoothing is logsumexp(x) - x_target, averaged") {
  const Tensor logits = from_vector(std::vector<float>{1, 2, 3, 0, -1, 4}, {2, 3});
  const Tensor targets = from_vector(std::vector<int32_t>{2, 0}, {2});
  const float row0 = std::log(std::exp(1.0f) + std::exp(2.0f) + std::exp(3.0f)) - 3;
  const float row1 = std::log(std::exp(0.0f) + std::exp(-1.0f) + std::exp(4.0f)) - 0;
  CHECK(cross_entropy(logits, targets).item() == doctest::Approx((row0 + row1) / 2));
}

TEST_CASE("cross_entropy with label smoothing and ignore_index, each reduction") {
  const std::vector<float> xs{0.5f, -1, 2, 0, 1, 1, 1, 1, 3, 0, -2, 1};
  const Tensor logits = from_vector(xs, {3, 4});
  const Tensor targets = from_vector(std::vector<int32_t>{1, -100, 3}, {3});
  const float s = 0.1f;
  const float row0 = smoothed_loss({xs.begin(), xs.begin() + 4}, 1, s);
  const float row2 = smoothed_loss({xs.begin() + 8, xs.end()}, 3, s);
  CrossEntropyOptions options;
  options.label_smoothing = s;

  options.reduction = Reduction::None;
  const Tensor per_row = cross_entropy(logits, targets, options);
  CHECK(per_row.shape() == Shape{3});
  check_close(per_row.to_vector<float>(), {row0, 0, row2});
  options.reduction = Reduction::Sum;
  CHECK(cross_entropy(logits, targets, options).item() == doctest::Approx(row0 + row2));
  options.reduction = Reduction::Mean;  // divides by the 2 rows that count, not 3
  CHECK(cross_entropy(logits, targets, options).item() == doctest::Approx((row0 + row2) / 2));

  // Another ignore_index, inside [0, C): target 1 is now the ignored one.
  options.ignore_index = 1;
  const float row1 = smoothed_loss({xs.begin() + 4, xs.begin() + 8}, 0, s);
  const Tensor other = from_vector(std::vector<int32_t>{1, 0, 3}, {3});
  CHECK(cross_entropy(logits, other, options).item() == doctest::Approx((row1 + row2) / 2));
}

TEST_CASE("cross_entropy gradient is (softmax - q) / count, zero on ignored rows") {
  const Tensor logits = random_leaf({3, 4}, 71);
  const Tensor targets = from_vector(std::vector<int32_t>{2, -100, 0}, {3});
  CrossEntropyOptions options;
  options.label_smoothing = 0.2f;
  cross_entropy(logits, targets, options).backward();
  const std::vector<float> xs = logits.to_vector<float>(), g = logits.grad().to_vector<float>();
  for (int r : {0, 2}) {
    const std::vector<double> log_p = log_probs_of({xs.begin() + r * 4, xs.begin() + r * 4 + 4});
    const int t = r == 0 ? 2 : 0;
    for (int j = 0; j < 4; ++j) {
      const double q = (j == t ? 0.8 : 0.0) + 0.2 / 4;
      CHECK(g[r * 4 + j] == doctest::Approx((std::exp(log_p[j]) - q) / 2));
    }
  }
  for (int j = 0; j < 4; ++j) CHECK(g[4 + j] == 0.0f);
}

TEST_CASE("cross_entropy passes gradcheck for every reduction, with smoothing and ignoring") {
  const Tensor targets = from_vector(std::vector<int32_t>{3, -100, 0, 4}, {4});
  for (const Reduction reduction : {Reduction::None, Reduction::Mean, Reduction::Sum}) {
    for (const float smoothing : {0.0f, 0.15f}) {
      CAPTURE(static_cast<int>(reduction));
      CAPTURE(smoothing);
      const CrossEntropyOptions options{-100, smoothing, reduction};
      auto f = [&](const std::vector<Tensor>& in) {
        return cross_entropy(in[0], targets, options);
      };
      const GradcheckResult r = gradcheck(f, {random_leaf({4, 5}, 81)});
      CHECK_MESSAGE(r.ok, r.report);
    }
  }
}

TEST_CASE("cross_entropy flattens logits (..., C) with targets (...)") {
  const Tensor logits = random_leaf({2, 3, 4}, 91);
  const Tensor targets = from_vector(std::vector<int32_t>{0, 1, 2, 3, -100, 1}, {2, 3});
  const CrossEntropyOptions none{-100, 0.0f, Reduction::None};
  const Tensor per_row = cross_entropy(logits, targets, none);
  CHECK(per_row.shape() == Shape{2, 3});
  const Tensor flat = cross_entropy(logits.detach().reshape({6, 4}), targets.reshape({6}), none);
  check_close(per_row.to_vector<float>(), flat.to_vector<float>(), 0);
  auto f = [&](const std::vector<Tensor>& in) { return cross_entropy(in[0], targets); };
  const GradcheckResult r = gradcheck(f, {logits});
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("cross_entropy with every target ignored is 0 with zero gradient, never NaN") {
  const Tensor logits = random_leaf({2, 3}, 101);
  const Tensor targets = from_vector(std::vector<int32_t>{-100, -100}, {2});
  const Tensor loss = cross_entropy(logits, targets);
  CHECK(loss.item() == 0.0f);
  loss.backward();
  for (float g : logits.grad().to_vector<float>()) CHECK(g == 0.0f);
}

// [300, 120] is past kParallelThreshold: the kernels run threaded there.
TEST_CASE("fused cross_entropy matches log_softmax followed by nll_loss") {
  for (const auto& [rows, classes] : {std::pair<int32_t, int32_t>{5, 7}, {300, 120}}) {
    CAPTURE(rows);
    const Tensor logits = random_leaf({rows, classes}, 111);
    std::vector<int32_t> labels;
    for (int32_t r = 0; r < rows; ++r) labels.push_back(r % 4 == 2 ? -100 : (r * 7) % classes);
    const Tensor targets = from_vector(labels, {rows});
    const Tensor fused = cross_entropy(logits, targets);
    fused.backward();
    const std::vector<float> fused_grad = logits.grad().to_vector<float>();
    logits.zero_grad();
    const Tensor reference = nll_loss(log_softmax(logits, 1), targets);
    CHECK(fused.item() == doctest::Approx(reference.item()));
    reference.backward();
    check_close(fused_grad, logits.grad().to_vector<float>(), 1e-4f);
  }
}

TEST_CASE("cross_entropy errors name the op, what was expected and what came") {
  const Tensor logits = zeros({4, 10});
  CHECK_THROWS_WITH_AS(
      cross_entropy(logits, from_vector(std::vector<int32_t>{0, 1, 2, 12}, {4})),
      doctest::Contains("cross_entropy: target 12 at row 3 is out of range [0, 10)"), Error);
  CHECK_THROWS_WITH_AS(
      cross_entropy(logits, from_vector(std::vector<int32_t>{0, -1, 2, 3}, {4})),
      doctest::Contains("cross_entropy: target -1 at row 1 is out of range [0, 10)"), Error);
  CHECK_THROWS_WITH_AS(cross_entropy(logits, zeros({4})),
                       doctest::Contains("cross_entropy: targets must be int32, got float32"),
                       Error);
  CHECK_THROWS_WITH_AS(cross_entropy(zeros({4, 10}, DType::Int32), zeros({4}, DType::Int32)),
                       doctest::Contains("cross_entropy: expected a float32 tensor"), Error);
  CHECK_THROWS_WITH_AS(cross_entropy(logits, zeros({5}, DType::Int32)),
                       doctest::Contains("cross_entropy: targets of shape [5] do not match "
                                         "logits of shape [4,10] (expected targets of shape "
                                         "[4])"),
                       Error);
  CHECK_THROWS_WITH_AS(cross_entropy(logits, zeros({4}, DType::Int32), {-100, 1.5f}),
                       doctest::Contains("cross_entropy: label_smoothing must be in [0, 1]"),
                       Error);
}

// ---- nll_loss ----

TEST_CASE("nll_loss picks -log_probs at the targets, skipping ignore_index") {
  const Tensor log_probs = from_vector(std::vector<float>{-1, -2, -3, -0.5f, -4, -6}, {2, 3});
  const Tensor targets = from_vector(std::vector<int32_t>{2, 0}, {2});
  CHECK(nll_loss(log_probs, targets).item() == doctest::Approx((3 + 0.5) / 2));
  CHECK(nll_loss(log_probs, targets, -100, Reduction::Sum).item() == doctest::Approx(3.5));
  check_close(nll_loss(log_probs, targets, -100, Reduction::None).to_vector<float>(), {3, 0.5f});
  // ignore_index 2 drops row 0: the mean is over row 1 alone.
  CHECK(nll_loss(log_probs, targets, 2).item() == doctest::Approx(0.5));

  for (const Reduction reduction : {Reduction::None, Reduction::Mean, Reduction::Sum}) {
    CAPTURE(static_cast<int>(reduction));
    const Tensor t = from_vector(std::vector<int32_t>{1, -100, 3}, {3});
    auto f = [&](const std::vector<Tensor>& in) { return nll_loss(in[0], t, -100, reduction); };
    const GradcheckResult r = gradcheck(f, {random_leaf({3, 4}, 121)});
    CHECK_MESSAGE(r.ok, r.report);
  }
}

TEST_CASE("nll_loss errors name the op, what was expected and what came") {
  const Tensor log_probs = zeros({3, 5});
  CHECK_THROWS_WITH_AS(nll_loss(log_probs, from_vector(std::vector<int32_t>{0, 5, 1}, {3})),
                       doctest::Contains("nll_loss: target 5 at row 1 is out of range [0, 5)"),
                       Error);
  CHECK_THROWS_WITH_AS(nll_loss(log_probs, zeros({2}, DType::Int32)),
                       doctest::Contains("nll_loss: targets of shape [2] do not match"), Error);
  CHECK_THROWS_WITH_AS(nll_loss(log_probs, zeros({3})),
                       doctest::Contains("nll_loss: targets must be int32"), Error);
  CHECK_THROWS_WITH_AS(nll_loss(zeros({2, 3, 5}), zeros({2, 3}, DType::Int32)),
                       doctest::Contains("nll_loss: log_probs must be 2-D [N, C]"), Error);
}

// ---- mse_loss ----

TEST_CASE("mse_loss is the mean (or sum) of squared differences") {
  const Tensor a = from_vector(std::vector<float>{1, 2, 3}, {3});
  const Tensor b = from_vector(std::vector<float>{1, 0, 5}, {3});
  CHECK(mse_loss(a, b).item() == doctest::Approx(8.0 / 3));
  CHECK(mse_loss(a, b, Reduction::Sum).item() == doctest::Approx(8.0));
  check_close(mse_loss(a, b, Reduction::None).to_vector<float>(), {0, 4, 4});

  for (const Reduction reduction : {Reduction::None, Reduction::Mean, Reduction::Sum}) {
    CAPTURE(static_cast<int>(reduction));
    auto f = [&](const std::vector<Tensor>& in) { return mse_loss(in[0], in[1], reduction); };
    const GradcheckResult r = gradcheck(f, {random_leaf({2, 3}, 131), random_leaf({2, 3}, 132)});
    CHECK_MESSAGE(r.ok, r.report);
  }
}

TEST_CASE("mse_loss errors name the op, what was expected and what came") {
  CHECK_THROWS_WITH_AS(mse_loss(zeros({2, 3}), zeros({3})),
                       doctest::Contains("mse_loss: prediction of shape [2,3] and target of "
                                         "shape [3] must have the same shape"),
                       Error);
  CHECK_THROWS_WITH_AS(mse_loss(zeros({3}), zeros({3}, DType::Int32)),
                       doctest::Contains("mse_loss: expected a float32 tensor"), Error);
}
