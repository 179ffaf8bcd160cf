// Dropout, Embedding, LayerNorm, the activations, FeedForward, Sequential and ModuleList:
// forward values from the formula, gradcheck of input and parameters, a gradient for every
// parameter, and every error message.
#include <doctest/doctest.h>

#include <cmath>

#include "layer_checks.h"
#include "layers/activation.h"
#include "layers/dropout.h"
#include "layers/embedding.h"
#include "layers/feed_forward.h"
#include "layers/layer_norm.h"
#include "layers/linear.h"
#include "layers/module_gradcheck.h"
#include "layers/sequential.h"

using namespace tg;
using namespace tg::testing;

// ---- Dropout ----

TEST_CASE("Dropout is the identity in eval mode and with p = 0") {
  Dropout drop(0.5f);
  const Tensor x = random_leaf({4, 5}, 1);
  drop.eval();
  check_close(drop(x), x.to_vector<float>(), 0.0f);
  Dropout none(0.0f);
  check_close(none(x), x.to_vector<float>(), 0.0f);
}

TEST_CASE("Dropout in training zeroes about p of the elements and keeps the mean") {
  Generator gen(2);
  Dropout drop(0.3f, gen);
  const std::vector<float> y = drop(ones({100000})).to_vector<float>();
  int zeros_seen = 0, wrongly_scaled = 0;
  double total = 0;
  for (float v : y) {
    if (v == 0.0f)
      ++zeros_seen;
    else if (std::abs(v - 1.0f / 0.7f) > 1e-6f)
      ++wrongly_scaled;  // survivors: 1 / (1 - p)
    total += v;
  }
  CHECK(wrongly_scaled == 0);
  CHECK(zeros_seen / 100000.0 == doctest::Approx(0.3).epsilon(0.02));
  CHECK(total / 100000.0 == doctest::Approx(1.0).epsilon(0.01));
}

TEST_CASE("Dropout draws its mask from its generator: same seed, same mask, gradient = mask") {
  Generator gen(3);
  Dropout drop(0.5f, gen);
  const Tensor x = random_leaf({3, 4}, 4);
  gen.set_state(3, 0);
  const Tensor first = drop(x);
  gen.set_state(3, 0);
  const Tensor second = drop(x);
  CHECK(first.to_vector<float>() == second.to_vector<float>());

  // d y / d x = mask / (1 - p): 2 where kept, 0 where dropped.
  first.sum().backward();
  const std::vector<float> y = first.to_vector<float>(), g = x.grad().to_vector<float>();
  for (size_t i = 0; i < y.size(); ++i) CHECK(g[i] == (y[i] == 0.0f ? 0.0f : 2.0f));

  // With the mask held fixed (the generator rewound before each forward), gradcheck applies.
  const GradcheckResult r = gradcheck(
      [&](const std::vector<Tensor>& in) {
        gen.set_state(3, 0);
        return drop(in[0]);
      },
      {x});
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("Dropout rejects p outside (0, 1)") {
  CHECK_THROWS_WITH_AS(Dropout(1.0f), doctest::Contains("Dropout: p must be in [0, 1), got 1"),
                       Error);
  CHECK_THROWS_WITH_AS(Dropout(-0.1f), doctest::Contains("Dropout: p must be in [0, 1), got -0.1"),
                       Error);
}

// ---- Embedding ----

TEST_CASE("Embedding looks up rows, starts N(0, 1), the padding row starts at zero") {
  Generator gen(5);
  Embedding big(1000, 100, -1, gen);
  const Moments m = moments_of(big.weight);
  CHECK(std::abs(m.mean) < 0.01);
  CHECK(m.std == doctest::Approx(1.0).epsilon(0.01));

  Embedding table(5, 3, /*padding_idx=*/0, gen);
  check_close(narrow(table.weight, 0, 0, 1), {0, 0, 0}, 0.0f);
  const std::vector<float> w = table.weight.to_vector<float>();
  const Tensor ids = from_vector(std::vector<int32_t>{4, 1, 0, 1}, {2, 2});
  const Tensor y = table(ids);
  CHECK(y.shape() == Shape{2, 2, 3});
  std::vector<float> want;
  for (int id : {4, 1, 0, 1})
    for (int j = 0; j < 3; ++j) want.push_back(w[id * 3 + j]);
  check_close(y, want, 0.0f);
}

TEST_CASE("Embedding gradient: each row gets the sum of its lookups, padding gets none") {
  Embedding table(4, 2, /*padding_idx=*/3);
  const Tensor ids = from_vector(std::vector<int32_t>{1, 2, 1, 3}, {4});
  table(ids).sum().backward();
  CHECK(parameters_without_grad(table).empty());
  check_close(table.weight.grad(), {0, 0, 2, 2, 1, 1, 0, 0}, 0.0f);

  // By design the padding row's gradient is zero although it does shape the output, so
  // gradcheck looks up real ids only.
  const Tensor real_ids = from_vector(std::vector<int32_t>{1, 2, 1, 0, 2}, {5});
  const GradcheckResult r = gradcheck_module(
      table, [&](const std::vector<Tensor>& in) { return table(in[0]); }, {real_ids});
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("Embedding errors name the layer, or the op for ids out of range") {
  Embedding table(4, 2);
  CHECK_THROWS_WITH_AS(table(zeros({2})),
                       doctest::Contains("Embedding: expected int32 ids, got float32 [2]"), Error);
  CHECK_THROWS_WITH_AS(table(from_vector(std::vector<int32_t>{1, 4}, {2})),
                       doctest::Contains("embedding: id 4 at position 1 is out of range [0, 4)"),
                       Error);
  CHECK_THROWS_WITH_AS(Embedding(4, 2, 4),
                       doctest::Contains("Embedding: padding_idx 4 is out of range [0, 4)"), Error);
}

// ---- LayerNorm ----

namespace {
// (x - mean) / sqrt(var + eps) * weight + bias per row of [rows, dim], var biased, in double.
std::vector<float> layer_norm_reference(const std::vector<float>& x, int64_t dim,
                                        const std::vector<float>& weight,
                                        const std::vector<float>& bias, double eps) {
  std::vector<float> y(x.size());
  for (size_t row = 0; row < x.size() / dim; ++row) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < dim; ++j) mean += x[row * dim + j];
    mean /= dim;
    for (int64_t j = 0; j < dim; ++j) var += (x[row * dim + j] - mean) * (x[row * dim + j] - mean);
    var /= dim;
    for (int64_t j = 0; j < dim; ++j)
      y[row * dim + j] = static_cast<float>(
          (x[row * dim + j] - mean) / std::sqrt(var + eps) * weight[j] + bias[j]);
  }
  return y;
}
}  // namespace

TEST_CASE("LayerNorm normalises the last dim, then scales and shifts") {
  LayerNorm norm(4);
  check_close(norm.weight, {1, 1, 1, 1}, 0.0f);
  check_close(norm.bias, {0, 0, 0, 0}, 0.0f);
  // [1, 2, 3, 4]: mean 2.5, var 1.25.
  const std::vector<float> x{1, 2, 3, 4, -1, 0, 0, 5};
  const float s = 1.0f / std::sqrt(1.25f + 1e-5f);
  CHECK(norm(from_vector(x, {2, 4})).to_vector<float>().front() == doctest::Approx(-1.5f * s));
  check_close(norm(from_vector(x, {2, 4})),
              layer_norm_reference(x, 4, {1, 1, 1, 1}, {0, 0, 0, 0}, 1e-5));

  set_values(norm.weight, {1, 2, -1, 0.5f});
  set_values(norm.bias, {0, 1, 0, -1});
  check_close(norm(from_vector(x, {2, 1, 4})),
              layer_norm_reference(x, 4, {1, 2, -1, 0.5f}, {0, 1, 0, -1}, 1e-5));
}

TEST_CASE("LayerNorm passes gradcheck for input, weight and bias, every parameter gets a grad") {
  Generator gen(6);
  LayerNorm norm(5);
  set_values(norm.weight, randn({5}, gen).to_vector<float>());
  set_values(norm.bias, randn({5}, gen).to_vector<float>());
  const Tensor x = randn({2, 3, 5}, gen).set_requires_grad();
  const GradcheckResult r =
      gradcheck_module(norm, [&](const std::vector<Tensor>& in) { return norm(in[0]); }, {x});
  CHECK_MESSAGE(r.ok, r.report);
  (norm(x) * randn({2, 3, 5}, gen)).sum().backward();
  CHECK(parameters_without_grad(norm).empty());
}

TEST_CASE("LayerNorm without affine parameters has none and still normalises") {
  LayerNorm norm(3, 1e-5f, /*elementwise_affine=*/false);
  CHECK(norm.parameter_count() == 0);
  CHECK_FALSE(norm.weight.defined());
  const std::vector<float> x{3, 6, 9};
  check_close(norm(from_vector(x, {1, 3})), layer_norm_reference(x, 3, {1, 1, 1}, {0, 0, 0}, 1e-5));
  CHECK_THROWS_WITH_AS(norm(zeros({2, 4})),
                       doctest::Contains("LayerNorm: expected input [..., 3], got [2,4]"), Error);
}

// ---- activations ----

std::vector<float> apply_each(const std::vector<float>& x, float (*f)(float)) {
  std::vector<float> y;
  for (float v : x) y.push_back(f(v));
  return y;
}

TEST_CASE("activation modules compute relu, gelu, tanh and sigmoid, and pass gradcheck") {
  const std::vector<float> x{-2.0f, -0.5f, 0.3f, 1.5f};
  auto each = [&](float (*f)(float)) { return apply_each(x, f); };
  const Tensor input = from_vector(x, {2, 2});
  ReLU relu_layer;
  GELU gelu_layer;
  Tanh tanh_layer;
  Sigmoid sigmoid_layer;
  check_close(relu_layer(input), {0, 0, 0.3f, 1.5f});
  check_close(gelu_layer(input),
              each([](float v) { return 0.5f * v * (1.0f + std::erf(v / std::sqrt(2.0f))); }));
  check_close(tanh_layer(input), each([](float v) { return std::tanh(v); }));
  check_close(sigmoid_layer(input), each([](float v) { return 1.0f / (1.0f + std::exp(-v)); }));
  CHECK(gelu_layer.type_name() == "GELU");
  CHECK(activate(Activation::Relu, input).to_vector<float>() ==
        relu_layer(input).to_vector<float>());
  CHECK(std::string(to_string(Activation::Gelu)) == "gelu");

  const Tensor leaf = input.clone().set_requires_grad();  // no element at relu's kink
  for (const UnaryModule* layer : std::initializer_list<const UnaryModule*>{
           &relu_layer, &gelu_layer, &tanh_layer, &sigmoid_layer}) {
    INFO(layer->type_name());
    CHECK(layer->parameter_count() == 0);
    const GradcheckResult r =
        gradcheck([&](const std::vector<Tensor>& in) { return (*layer)(in[0]); }, {leaf});
    CHECK_MESSAGE(r.ok, r.report);
  }
}

TEST_CASE("GELU with the tanh approximation and Softplus, as modules and as activations") {
  const std::vector<float> x{-2.0f, -0.5f, 0.3f, 1.5f};
  auto each = [&](float (*f)(float)) { return apply_each(x, f); };
  const Tensor input = from_vector(x, {4});
  GELU gelu_tanh_layer(GeluApproximation::Tanh);
  Softplus softplus_layer(2.0f, 2.0f);
  float (*gelu_tanh_formula)(float) = [](float v) {
    return 0.5f * v * (1.0f + std::tanh(0.7978845608f * (v + 0.044715f * v * v * v)));
  };
  check_close(gelu_tanh_layer(input), each(gelu_tanh_formula));
  check_close(activate(Activation::GeluTanh, input), each(gelu_tanh_formula));
  CHECK(std::string(to_string(Activation::GeluTanh)) == "gelu_tanh");
  // 2 * 1.5 > 2: the last element is x itself.
  check_close(softplus_layer(input),
              {std::log1p(std::exp(-4.0f)) / 2, std::log1p(std::exp(-1.0f)) / 2,
               std::log1p(std::exp(0.6f)) / 2, 1.5f});
  CHECK(softplus_layer.type_name() == "Softplus");
  const Tensor leaf = input.clone().set_requires_grad();
  for (const UnaryModule* layer :
       std::initializer_list<const UnaryModule*>{&gelu_tanh_layer, &softplus_layer}) {
    const GradcheckResult r =
        gradcheck([&](const std::vector<Tensor>& in) { return (*layer)(in[0]); }, {leaf});
    CHECK_MESSAGE(r.ok, r.report);
  }
}

// ---- FeedForward ----

TEST_CASE("FeedForward is down(act(up(x))) with parameters up.*, down.*") {
  Generator gen(7);
  for (Activation act : {Activation::Relu, Activation::Gelu, Activation::GeluTanh}) {
    INFO(to_string(act));
    FeedForward ff(4, 6, /*dropout=*/0.0f, act, gen);
    CHECK(parameter_names(ff) ==
          std::vector<std::string>{"up.weight", "up.bias", "down.weight", "down.bias"});
    CHECK(ff.parameter_count() == 4 * 6 + 6 + 6 * 4 + 4);
    const Tensor x = randn({2, 3, 4}, gen);
    const Tensor hidden = activate(act, matmul(x, ff.up.weight, false, true) + ff.up.bias);
    const Tensor want = matmul(hidden, ff.down.weight, false, true) + ff.down.bias;
    check_close(ff(x), want.to_vector<float>());
  }
}

TEST_CASE("FeedForward passes gradcheck for input and all four parameters") {
  Generator gen(8);
  FeedForward ff(3, 5, 0.0f, Activation::Gelu, gen);
  const Tensor x = randn({2, 3}, gen).set_requires_grad();
  const GradcheckResult r =
      gradcheck_module(ff, [&](const std::vector<Tensor>& in) { return ff(in[0]); }, {x});
  CHECK_MESSAGE(r.ok, r.report);
  ff(x).sum().backward();
  CHECK(parameters_without_grad(ff).empty());
}

TEST_CASE("FeedForward's dropout acts in training only") {
  Generator gen(9);
  FeedForward ff(4, 64, /*dropout=*/0.5f, Activation::Relu, gen);
  const Tensor x = randn({8, 4}, gen);
  ff.eval();
  CHECK_FALSE(ff.drop.is_training());
  const std::vector<float> eval_output = ff(x).to_vector<float>();
  CHECK(ff(x).to_vector<float>() == eval_output);
  ff.train();
  CHECK(ff(x).to_vector<float>() != eval_output);
}

// ---- Sequential and ModuleList ----

TEST_CASE("Sequential chains its modules and names them by index") {
  Generator gen(10);
  Sequential mlp;
  Linear& first = mlp.add<Linear>(3, 4, true, gen);
  mlp.add<ReLU>();
  mlp.add<Linear>(4, 2, true, gen);
  CHECK(mlp.size() == 3);
  CHECK(&mlp.at<Linear>(0) == &first);
  CHECK(parameter_names(mlp) ==
        std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
  CHECK(mlp.at<Linear>(2).path() == "2");

  const Tensor x = randn({5, 3}, gen).set_requires_grad();
  const Tensor want = mlp.at<Linear>(2)(relu(first(x)));
  check_close(mlp(x), want.to_vector<float>());

  const GradcheckResult r =
      gradcheck_module(mlp, [&](const std::vector<Tensor>& in) { return mlp(in[0]); }, {x});
  CHECK_MESSAGE(r.ok, r.report);
  mlp(x).sum().backward();
  CHECK(parameters_without_grad(mlp).empty());
}

TEST_CASE("Sequential nests, is the identity when empty, and reports bad access") {
  Sequential outer;
  Sequential& inner = outer.add<Sequential>();
  inner.add<Linear>(2, 2);
  outer.add<Tanh>();
  CHECK(parameter_names(outer) == std::vector<std::string>{"0.0.weight", "0.0.bias"});
  CHECK(outer(zeros({1, 2})).shape() == Shape{1, 2});

  Sequential empty_chain;
  const Tensor x = from_vector(std::vector<float>{1, 2}, {2});
  check_close(empty_chain(x), {1, 2}, 0.0f);

  CHECK_THROWS_WITH_AS(outer.at<Linear>(1),
                       doctest::Contains("Sequential: element 1 is a Tanh, not the type asked for"),
                       Error);
  CHECK_THROWS_WITH_AS(
      outer[2], doctest::Contains("Sequential: index 2 is out of range for 2 modules"), Error);
  // A child's error names its place in the chain.
  CHECK_THROWS_WITH_AS(outer(zeros({1, 3})),
                       doctest::Contains("Linear '0.0': expected input [..., 2], got [1,3]"),
                       Error);
}

TEST_CASE("ModuleList holds any modules under their index") {
  ModuleList<> list;
  Linear& a = list.emplace_back<Linear>(2, 3);
  list.emplace_back<LayerNorm>(3);
  CHECK(list.size() == 2);
  CHECK(&list.at<Linear>(0) == &a);
  CHECK(list.at<LayerNorm>(1).dim == 3);
  CHECK(list[1].type_name() == "LayerNorm");
  CHECK(parameter_names(list) ==
        std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias"});
  CHECK(list.parameter_count() == 6 + 3 + 3 + 3);
  CHECK_THROWS_WITH_AS(
      list.at<Linear>(1),
      doctest::Contains("ModuleList: element 1 is a LayerNorm, not the type asked for"), Error);
  CHECK_THROWS_WITH_AS(
      list[5], doctest::Contains("ModuleList: index 5 is out of range for 2 modules"), Error);
}
