// RMSprop: the first step by hand, several steps against a double-precision reference of the
// rule (weight decay, centered, momentum), convergence, state round trip, errors.
#include <doctest/doctest.h>

#include <cmath>

#include "optim/optim.h"
#include "optim_test_helpers.h"

using namespace tg;
using optim_test::check_close;
using optim_test::parameter;
using optim_test::set_grad;

namespace {

struct ReferenceRMSprop {
  RMSpropOptions o;
  double v = 0, a = 0, b = 0;
  double step(double p, double g) {
    g += o.weight_decay * p;
    v = o.alpha * v + (1 - o.alpha) * g * g;
    double spread = v;
    if (o.centered) {
      a = o.alpha * a + (1 - o.alpha) * g;
      spread = v - a * a;
    }
    const double scaled = g / (std::sqrt(spread) + o.eps);
    if (o.momentum > 0) {
      b = o.momentum * b + scaled;
      return p - o.lr * b;
    }
    return p - o.lr * scaled;
  }
};

void check_against_reference(const RMSpropOptions& options) {
  const std::vector<float> start = {0.5f, -1.0f, 2.0f};
  const std::vector<std::vector<float>> grads = {
      {0.3f, -0.2f, 1.0f}, {-0.1f, 0.4f, 0.05f}, {0.02f, -0.01f, -2.0f}, {0.5f, 0.5f, 0.5f}};
  Tensor p = parameter(start);
  RMSprop opt({p}, options);
  std::vector<ReferenceRMSprop> reference(start.size(), ReferenceRMSprop{options});
  std::vector<double> expected(start.begin(), start.end());
  for (const auto& g : grads) {
    set_grad(p, g);
    opt.step();
    for (size_t i = 0; i < expected.size(); ++i) expected[i] = reference[i].step(expected[i], g[i]);
    check_close(p.to_vector<float>(), expected, 1e-5);
  }
}

}  // namespace

TEST_CASE("RMSprop's first step: v = (1 - alpha) g^2, p -= lr g / (sqrt(v) + eps)") {
  Tensor p = parameter({1.0f, 1.0f});
  RMSprop opt({p}, {.lr = 0.01, .alpha = 0.99, .eps = 0.0});
  set_grad(p, {2.0f, -0.5f});
  opt.step();  // g / sqrt(0.01 g^2) = 10 sign(g)
  check_close(p.to_vector<float>(), {0.9, 1.1}, 1e-6);
}

TEST_CASE("centered RMSprop's first step divides by the variance estimate") {
  // alpha = 0.5: v = 0.5 g^2, a = 0.5 g, v - a^2 = 0.25 g^2, so the step is lr * g / (0.5 |g|) = 2
  // lr sign(g).
  Tensor p = parameter({1.0f});
  RMSprop opt({p}, {.lr = 0.01, .alpha = 0.5, .eps = 0.0, .centered = true});
  set_grad(p, {3.0f});
  opt.step();
  check_close(p.to_vector<float>(), {0.98}, 1e-6);
}

TEST_CASE("RMSprop matches the reference rule over several steps") {
  SUBCASE("plain") { check_against_reference({.lr = 0.01}); }
  SUBCASE("weight decay") { check_against_reference({.lr = 0.01, .weight_decay = 0.1}); }
  SUBCASE("momentum") { check_against_reference({.lr = 0.01, .alpha = 0.9, .momentum = 0.8}); }
  SUBCASE("centered with momentum") {
    check_against_reference({.lr = 0.01, .alpha = 0.9, .momentum = 0.5, .centered = true});
  }
}

TEST_CASE("RMSprop converges on least squares") {
  CHECK(optim_test::least_squares_distance(
            [](std::vector<Tensor> p) { return RMSprop(p, {.lr = 0.01}); }, 800) < 2e-2);
  CHECK(optim_test::least_squares_distance(
            [](std::vector<Tensor> p) {
              return RMSprop(p, {.lr = 0.005, .momentum = 0.5, .centered = true});
            },
            800) < 2e-2);
}

TEST_CASE("RMSprop state round trip continues identically") {
  Tensor p = parameter({1.0f, -1.0f});
  RMSprop first({p}, {.lr = 0.01, .momentum = 0.9, .centered = true});
  set_grad(p, {0.3f, 0.7f});
  first.step();
  const Checkpoint state = first.state();
  CHECK(state.has_tensor("group0.param0.square_avg"));
  CHECK(state.has_tensor("group0.param0.momentum_buffer"));
  CHECK(state.has_tensor("group0.param0.grad_avg"));
  Tensor q = p.detach().clone().set_requires_grad();
  RMSprop second({q});
  second.load_state(state);
  CHECK(second.options().centered);
  for (int i = 0; i < 3; ++i) {
    set_grad(p, {0.1f, -0.2f});
    set_grad(q, {0.1f, -0.2f});
    first.step();
    second.step();
  }
  CHECK(optim_test::bitwise_equal(p, q));
}

TEST_CASE("RMSprop errors name the option") {
  CHECK_THROWS_WITH_AS(RMSprop({parameter({1.0f})}, {.alpha = 1.5}),
                       doctest::Contains("RMSprop: alpha must be in [0, 1], got 1.5"), Error);
  CHECK_THROWS_WITH_AS(RMSprop({parameter({1.0f})}, {.momentum = -1.0}),
                       doctest::Contains("RMSprop: momentum must be >= 0"), Error);
}

TEST_CASE("RMSprop's (1 - alpha) is exact to float: a first step lands within 4 ulp") {
  // alpha = 0.999, g = 1: v = 0.001 and the step is lr * g / sqrt(v) = 0.1 * 31.6227766...
  // In float, 1 - 0.999f is 9.99987e-4: the step was 85 ulp off.
  Tensor p = parameter({0.0f});
  RMSprop opt({p}, {.lr = 0.1, .alpha = 0.999, .eps = 0.0});
  set_grad(p, {1.0f});
  opt.step();
  const float got = p.to_vector<float>()[0];
  const float want = static_cast<float>(-0.1 / std::sqrt(0.001));
  int32_t got_bits = 0, want_bits = 0;
  std::memcpy(&got_bits, &got, sizeof got);
  std::memcpy(&want_bits, &want, sizeof want);
  INFO("got ", got, ", want ", want);
  CHECK(std::abs(got_bits - want_bits) <= 4);
}
