// SGD: first steps against the published update rule worked by hand (plain, weight decay,
// momentum, dampening, Nesterov), parameter groups, convergence, state round trip, errors.
#include <doctest/doctest.h>

#include "layers/module.h"
#include "optim/optim.h"
#include "optim_test_helpers.h"

using namespace tg;
using optim_test::check_close;
using optim_test::parameter;
using optim_test::set_grad;

TEST_CASE("plain SGD: p = p - lr * g") {
  Tensor p = parameter({1.0f, -2.0f});
  SGD opt({p}, {.lr = 0.1});
  set_grad(p, {0.5f, 1.0f});
  opt.step();
  check_close(p.to_vector<float>(), {0.95, -2.1});
  CHECK(opt.step_count() == 1);
}

TEST_CASE("SGD weight decay adds weight_decay * p to the gradient") {
  Tensor p = parameter({1.0f, -2.0f});
  SGD opt({p}, {.lr = 0.1, .weight_decay = 0.1});
  set_grad(p, {0.5f, 1.0f});
  opt.step();  // g = [0.5 + 0.1, 1 - 0.2] = [0.6, 0.8]
  check_close(p.to_vector<float>(), {0.94, -2.08});
}

TEST_CASE("SGD momentum: the buffer starts as g, then b = momentum b + (1 - dampening) g") {
  Tensor p = parameter({1.0f});
  SGD opt({p}, {.lr = 0.1, .momentum = 0.9, .dampening = 0.5});
  set_grad(p, {1.0f});
  opt.step();  // b = 1 (no dampening on the first step), p = 1 - 0.1
  check_close(p.to_vector<float>(), {0.9});
  set_grad(p, {2.0f});
  opt.step();  // b = 0.9 * 1 + 0.5 * 2 = 1.9, p = 0.9 - 0.19
  check_close(p.to_vector<float>(), {0.71});
  set_grad(p, {-1.0f});
  opt.step();  // b = 0.9 * 1.9 - 0.5 = 1.21, p = 0.71 - 0.121
  check_close(p.to_vector<float>(), {0.589});
}

TEST_CASE("SGD Nesterov steps along g + momentum * b") {
  Tensor p = parameter({0.0f, 1.0f});
  SGD opt({p}, {.lr = 0.1, .momentum = 0.9, .nesterov = true});
  set_grad(p, {1.0f, -1.0f});
  opt.step();  // b = g, step = g + 0.9 g = 1.9 g
  check_close(p.to_vector<float>(), {-0.19, 1.19});
  set_grad(p, {1.0f, -1.0f});
  opt.step();  // b = 1.9 g, step = g + 0.9 * 1.9 g = 2.71 g
  check_close(p.to_vector<float>(), {-0.19 - 0.271, 1.19 + 0.271});
}

TEST_CASE("SGD with momentum and weight decay together") {
  Tensor p = parameter({2.0f});
  SGD opt({p}, {.lr = 0.5, .momentum = 0.5, .weight_decay = 0.25});
  set_grad(p, {0.0f});
  opt.step();  // g = 0.5, b = 0.5, p = 2 - 0.25 = 1.75
  check_close(p.to_vector<float>(), {1.75});
  set_grad(p, {0.0f});
  opt.step();  // g = 0.4375, b = 0.25 + 0.4375 = 0.6875, p = 1.75 - 0.34375
  check_close(p.to_vector<float>(), {1.40625});
}

TEST_CASE("parameters without a gradient are skipped, zero_grad drops gradients") {
  Tensor a = parameter({1.0f}), b = parameter({1.0f});
  SGD opt({a, b}, {.lr = 1.0, .momentum = 0.9});
  set_grad(a, {1.0f});
  opt.step();
  CHECK(a.item() == doctest::Approx(0.0));
  CHECK(b.item() == 1.0f);
  CHECK(opt.step_count(0, 0) == 1);
  CHECK(opt.step_count(0, 1) == 0);
  opt.zero_grad();
  CHECK_FALSE(a.grad().defined());
}

TEST_CASE("parameter groups each use their own lr and weight decay") {
  Tensor a = parameter({1.0f}), b = parameter({1.0f}), c = parameter({1.0f});
  SGD opt(
      std::vector<ParamGroup>{{.params = {a}, .lr = 0.1}, {.params = {b, c}, .weight_decay = 0.5}},
      {.lr = 0.01, .weight_decay = 0.0});
  CHECK(opt.lr(0) == 0.1);
  CHECK(opt.lr(1) == 0.01);  // unset: the optimizer's
  CHECK(opt.weight_decay(0) == 0.0);
  CHECK(opt.weight_decay(1) == 0.5);
  for (const Tensor& p : {a, b, c}) set_grad(p, {1.0f});
  opt.step();
  check_close(a.to_vector<float>(), {0.9});
  check_close(b.to_vector<float>(), {1.0 - 0.01 * 1.5});
  opt.set_lr(1, 1.0);
  CHECK(opt.lr(1) == 1.0);
  CHECK(opt.lr(0) == 0.1);
}

namespace {
struct TinyBlock : Module {
  Tensor weight, bias, norm_weight;
  TinyBlock() : Module("TinyBlock") {
    weight = register_parameter("weight", zeros({2, 3}));
    bias = register_parameter("bias", zeros({3}));
    norm_weight = register_parameter("norm_weight", ones({3}));
  }
};
}  // namespace

TEST_CASE("param_groups_no_decay keeps biases and 1-D weights out of weight decay") {
  TinyBlock block;
  const std::vector<ParamGroup> groups = param_groups_no_decay(block.named_parameters(), 0.1);
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].names == std::vector<std::string>{"weight"});
  CHECK(*groups[0].weight_decay == 0.1);
  CHECK(groups[1].names == std::vector<std::string>{"bias", "norm_weight"});
  CHECK(*groups[1].weight_decay == 0.0);
  SGD opt(groups, {.lr = 1.0});
  for (const auto& p : block.parameters()) p.set_grad(zeros(p.shape()));
  opt.step();  // only decay moves anything: the weight (0) stays 0, the LN weight stays 1
  check_close(block.norm_weight.to_vector<float>(), {1, 1, 1});
}

TEST_CASE("SGD converges on least squares") {
  const double plain = optim_test::least_squares_distance(
      [](std::vector<Tensor> p) { return SGD(p, {.lr = 0.2}); }, 300);
  const double nesterov = optim_test::least_squares_distance(
      [](std::vector<Tensor> p) { return SGD(p, {.lr = 0.05, .momentum = 0.9, .nesterov = true}); },
      300);
  CHECK(plain < 1e-3);
  CHECK(nesterov < 1e-3);
}

TEST_CASE("SGD state round trip continues identically") {
  Tensor p1 = parameter({1.0f, 2.0f});
  SGD first({p1}, {.lr = 0.1, .momentum = 0.9});
  set_grad(p1, {1.0f, -1.0f});
  first.step();
  Tensor p2 = p1.detach().clone().set_requires_grad();
  SGD second({p2}, {.lr = 0.5});
  second.load_state(first.state());
  CHECK(second.options().momentum == 0.9);
  CHECK(second.lr() == doctest::Approx(0.1));
  set_grad(p1, {0.5f, 0.5f});
  set_grad(p2, {0.5f, 0.5f});
  first.step();
  second.step();
  CHECK(optim_test::bitwise_equal(p1, p2));
}

TEST_CASE("SGD errors name the problem") {
  Tensor p = parameter({1.0f});
  CHECK_THROWS_WITH_AS(SGD({p}, {.lr = 0.1, .nesterov = true}),
                       doctest::Contains("SGD: nesterov needs momentum > 0 and dampening == 0"),
                       Error);
  CHECK_THROWS_WITH_AS(SGD({p}, {.lr = -1.0}), doctest::Contains("SGD: lr must be >= 0, got -1"),
                       Error);
  CHECK_THROWS_WITH_AS(SGD({p}, {.momentum = -0.5}),
                       doctest::Contains("SGD: momentum must be >= 0"), Error);
  CHECK_THROWS_WITH_AS(SGD(std::vector<Tensor>{p, p}), doctest::Contains("appears more than once"),
                       Error);
  const Tensor derived = p * 2.0f;
  CHECK_THROWS_WITH_AS(SGD({derived}), doctest::Contains("only leaf tensors can be optimized"),
                       Error);
  CHECK_THROWS_WITH_AS(SGD(NamedTensors{{"ids", arange(3)}}),
                       doctest::Contains("SGD: parameter 'ids' is int32"), Error);
  SGD opt(NamedTensors{{"w", p}});
  p.set_grad(zeros({2}));
  CHECK_THROWS_WITH_AS(opt.step(),
                       doctest::Contains("SGD: parameter 'w': gradient is float32 [2], the "
                                         "parameter is float32 [1]"),
                       Error);
}
