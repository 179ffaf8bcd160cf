// Linear: y = x W^T + b against hand values, any leading dims, PyTorch's init, gradcheck of the
// input and both parameters, and the error for a wrong last dim.
#include <doctest/doctest.h>

#include <cmath>

#include "layer_checks.h"
#include "layers/linear.h"
#include "layers/module_gradcheck.h"

using namespace tg;
using namespace tg::testing;

TEST_CASE("Linear computes x W^T + b") {
  Linear layer(3, 2);
  set_values(layer.weight, {1, 2, 3,        // row 0
                            -1, 0, 0.5f});  // row 1
  set_values(layer.bias, {0.5f, -2});
  const Tensor x = from_vector(std::vector<float>{1, 1, 1, 2, 0, -2}, {2, 3});
  const Tensor y = layer(x);
  CHECK(y.shape() == Shape{2, 2});
  // [1,1,1]: 1+2+3+0.5 = 6.5, -1+0.5-2 = -2.5;  [2,0,-2]: 2-6+0.5 = -3.5, -2-1-2 = -5
  check_close(y, {6.5f, -2.5f, -3.5f, -5.0f});
}

TEST_CASE("Linear maps any leading dims, and a 1-D input, row by row") {
  Generator gen(1);
  Linear layer(4, 3, true, gen);
  const Tensor x = randn({2, 5, 4}, gen);
  const Tensor y = layer(x);
  REQUIRE(y.shape() == Shape{2, 5, 3});
  const std::vector<float> w = layer.weight.to_vector<float>(), b = layer.bias.to_vector<float>();
  const std::vector<float> xs = x.to_vector<float>();
  std::vector<float> want;
  for (int row = 0; row < 10; ++row)
    for (int o = 0; o < 3; ++o) {
      float total = b[o];
      for (int i = 0; i < 4; ++i) total += xs[row * 4 + i] * w[o * 4 + i];
      want.push_back(total);
    }
  check_close(y, want);

  const Tensor single = layer(from_vector(std::vector<float>(xs.begin(), xs.begin() + 4), {4}));
  CHECK(single.shape() == Shape{3});
  check_close(single, {want[0], want[1], want[2]});
}

TEST_CASE("Linear without bias has only a weight") {
  Linear layer(3, 2, /*bias=*/false);
  CHECK_FALSE(layer.bias.defined());
  CHECK(parameter_names(layer) == std::vector<std::string>{"weight"});
  CHECK(layer.parameter_count() == 6);
  set_values(layer.weight, {1, 0, 0, 0, 1, 1});
  check_close(layer(from_vector(std::vector<float>{2, 3, 4}, {1, 3})), {2, 7});
}

TEST_CASE("Linear starts like PyTorch: weight and bias in U(-1/sqrt(in), 1/sqrt(in))") {
  Generator gen(2);
  Linear layer(400, 300, true, gen);
  const double bound = 1.0 / std::sqrt(400.0);
  const Moments w = moments_of(layer.weight), b = moments_of(layer.bias);
  CHECK(w.min >= -bound);
  CHECK(w.max <= bound);
  CHECK(w.max > 0.99 * bound);
  CHECK(w.std == doctest::Approx(bound / std::sqrt(3.0)).epsilon(0.02));
  CHECK(b.min >= -bound);
  CHECK(b.max <= bound);
  CHECK(b.std == doctest::Approx(bound / std::sqrt(3.0)).epsilon(0.15));  // only 300 values

  Generator same(2);
  Linear twin(400, 300, true, same);
  CHECK(twin.weight.to_vector<float>() == layer.weight.to_vector<float>());
  CHECK(twin.bias.to_vector<float>() == layer.bias.to_vector<float>());
}

TEST_CASE("Linear passes gradcheck for its input, weight and bias, with and without batch dims") {
  Generator gen(3);
  Linear layer(4, 3, true, gen);
  for (const Shape& shape : {Shape{2, 4}, Shape{2, 3, 4}, Shape{4}}) {
    INFO("input shape ", to_string(shape));
    const Tensor x = randn(shape, gen).set_requires_grad();
    const GradcheckResult r =
        gradcheck_module(layer, [&](const std::vector<Tensor>& in) { return layer(in[0]); }, {x});
    CHECK_MESSAGE(r.ok, r.report);
  }
}

TEST_CASE("after a backward, weight and bias hold dL/dW = gy^T x and dL/db = sum of gy") {
  Linear layer(2, 2);
  set_values(layer.weight, {1, 2, 3, 4});
  set_values(layer.bias, {0, 0});
  const Tensor x = from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {3, 2});
  layer(x).sum().backward();
  CHECK(parameters_without_grad(layer).empty());
  // gy = ones[3, 2]: every output row adds x to each row of dW; db = 3 per output.
  check_close(layer.weight.grad(), {9, 12, 9, 12});
  check_close(layer.bias.grad(), {3, 3});
}

TEST_CASE("Linear names the expected and the received shape") {
  Linear layer(64, 10);
  CHECK_THROWS_WITH_AS(layer(zeros({32, 10})),
                       doctest::Contains("Linear: expected input [..., 64], got [32,10]"), Error);
  CHECK_THROWS_WITH_AS(
      layer(Tensor()),
      doctest::Contains("Linear: expected input [..., 64], got an undefined tensor"), Error);
  CHECK_THROWS_WITH_AS(
      Linear(0, 3),
      doctest::Contains("Linear: in_features and out_features must be positive, got 0 and 3"),
      Error);
}
