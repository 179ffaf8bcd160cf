// gelu with the tanh approximation and softplus with beta and threshold: forward values from
// the formulas (in double), derivatives by gradcheck on both of softplus's branches, the
// records they leave on the tape, and their errors. (The op table, tests/op_cases.h, runs them
// through gradcheck and CUDA parity too.)
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include "framework/ops/activation.h"
#include "helpers.h"

using namespace tg;
using namespace tg::testing;

namespace {

const std::vector<float> kInputs = {-6.0f, -2.5f, -1.0f, -0.3f, 0.0f, 0.4f, 1.0f, 2.0f, 5.0f};

std::vector<float> each(double (*f)(double)) {
  std::vector<float> out;
  for (float v : kInputs) out.push_back(static_cast<float>(f(v)));
  return out;
}

double gelu_tanh_formula(double x) {
  return 0.5 * x * (1 + std::tanh(std::sqrt(2 / std::numbers::pi) * (x + 0.044715 * x * x * x)));
}
double gelu_exact_formula(double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }

}  // namespace

TEST_CASE("gelu tanh matches its formula, stays within 5e-4 of the exact gelu, one record") {
  const Tensor x = from_vector(kInputs, {3, 3}).set_requires_grad();
  const Tensor y = gelu(x, GeluApproximation::Tanh);
  check_close(y.to_vector<float>(), each(gelu_tanh_formula), 1e-6f);
  CHECK(tape().size() == 1);
  tape().clear();
  const std::vector<float> exact = each(gelu_exact_formula);
  const std::vector<float> approx = y.to_vector<float>();
  for (size_t i = 0; i < exact.size(); ++i) CHECK(std::abs(exact[i] - approx[i]) < 5e-4f);
  // Hand values: gelu_tanh(1) = 0.5 (1 + tanh(0.7978846 * 1.044715)) = 0.8411920.
  CHECK(approx[6] == doctest::Approx(0.8411920).epsilon(1e-6));
  // None is the exact op.
  check_close(gelu(x, GeluApproximation::None).to_vector<float>(), gelu(x).to_vector<float>());
}

TEST_CASE("gelu tanh passes gradcheck, its derivative at 0 is 1/2") {
  Generator gen(3);
  check_gradcheck(
      [](const std::vector<Tensor>& in) { return gelu(in[0], GeluApproximation::Tanh); },
      {(2.0f * randn({4, 5}, gen)).set_requires_grad()});
  const Tensor zero = zeros({1}).set_requires_grad();
  gelu(zero, GeluApproximation::Tanh).sum().backward();
  check_values(zero.grad(), {0.5f});
}

TEST_CASE("softplus matches log(1 + e^(beta x)) / beta, and x above the threshold") {
  const Tensor x = from_vector(kInputs, {9});
  check_close(softplus(x).to_vector<float>(),
              each([](double v) { return std::log1p(std::exp(v)); }), 1e-6f);
  // beta 2, threshold 3: 2x > 3 (x = 2, 5) gives x itself; the rest the smooth formula.
  check_close(softplus(x, 2.0f, 3.0f).to_vector<float>(),
              each([](double v) { return 2 * v > 3 ? v : std::log1p(std::exp(2 * v)) / 2; }),
              1e-6f);
  // Hand values: softplus(0) = log 2; large inputs do not overflow.
  check_values(softplus(from_vector({0.0f, 100.0f, -100.0f}, {3})), {0.6931472f, 100.0f, 0.0f});
  check_values(softplus(from_vector({50.0f}, {1}), 1.0f, 60.0f), {50.0f});
}

TEST_CASE("softplus's derivative is sigmoid(beta x), and 1 on the linear branch") {
  const Tensor x = from_vector({-1.0f, 0.0f, 0.5f, 2.0f}, {4}).set_requires_grad();
  softplus(x, 2.0f, 3.0f).sum().backward();
  const auto sigmoid2 = [](double v) { return static_cast<float>(1 / (1 + std::exp(-2 * v))); };
  check_values(x.grad(), {sigmoid2(-1.0), 0.5f, sigmoid2(0.5), 1.0f});
  CHECK(tape().size() == 0);

  Generator gen(4);
  // Away from the threshold's small jump (at x = 1.5): one side of it each.
  check_gradcheck([](const std::vector<Tensor>& in) { return softplus(in[0], 2.0f, 3.0f); },
                  {from_vector({-2.0f, -0.7f, 0.1f, 0.9f, 1.2f}, {5}).set_requires_grad()});
  check_gradcheck([](const std::vector<Tensor>& in) { return softplus(in[0], 2.0f, 3.0f); },
                  {from_vector({1.8f, 2.5f, 4.0f}, {3}).set_requires_grad()});
  check_gradcheck([](const std::vector<Tensor>& in) { return softplus(in[0], 0.5f); },
                  {(3.0f * randn({3, 4}, gen)).set_requires_grad()});
}

TEST_CASE("softplus and gelu tanh reject what they cannot compute") {
  const Tensor x = from_vector({1.0f}, {1});
  CHECK_THROWS_WITH_AS(softplus(x, 0.0f),
                       doctest::Contains("softplus: beta must be positive and finite, got 0"),
                       Error);
  CHECK_THROWS_WITH_AS(softplus(x, -1.0f), doctest::Contains("got -1"), Error);
  CHECK_THROWS_WITH_AS(softplus(zeros({2}, DType::Int32)),
                       doctest::Contains("softplus: expected a float32 tensor, got int32 [2]"),
                       Error);
  CHECK_THROWS_WITH_AS(gelu(zeros({2}, DType::Int32), GeluApproximation::Tanh),
                       doctest::Contains("gelu_tanh: expected a float32 tensor, got int32"), Error);
}
