#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "tests/framework/helpers.h"

using namespace tg;
using tg::testing::check_gradcheck;
using tg::testing::check_values;
using tg::testing::param;

TEST_CASE("sum, mean, max, min over dims with and without keepdim") {
  const Tensor x = from_vector({1, 5, 3, 4, 2, 6}, {2, 3});
  CHECK(sum(x).item() == 21);
  CHECK(sum(x).shape() == Shape{});
  check_values(sum(x, {0}), {5, 7, 9});
  check_values(sum(x, {1}), {9, 12});
  CHECK(sum(x, {1}, true).shape() == Shape{2, 1});
  check_values(mean(x, {-1}), {3, 4});
  check_values(max(x, {1}), {5, 6});
  check_values(min(x, {0}), {1, 2, 3});
  CHECK(max(x).item() == 6);
  CHECK(sum(x, {0, 1}).item() == 21);
  CHECK(argmax(x, 1).to_vector<int32_t>() == std::vector<int32_t>{1, 2});
  CHECK(argmax(x, 0, true).shape() == Shape{1, 3});
}

TEST_CASE("var against the formula, biased and unbiased") {
  const Tensor x = from_vector({1, 2, 3, 4}, {4});  // mean 2.5, squared deviations sum 5
  CHECK(var(x).item() == doctest::Approx(5.0 / 3));
  CHECK(var(x, {}, false).item() == doctest::Approx(5.0 / 4));
  check_values(var(from_vector({1, 3, 2, 2}, {2, 2}), {1}), {2, 0});
}

TEST_CASE("gradcheck: reductions over every dim, keepdim, ties in max") {
  const Tensor x = param({2, 3, 4}, 21);
  for (const Dims& dims : {Dims{}, Dims{0}, Dims{1}, Dims{-1}, Dims{0, 2}}) {
    for (bool keepdim : {false, true}) {
      check_gradcheck([&](const std::vector<Tensor>& in) { return sum(in[0], dims, keepdim); },
                      {x});
      check_gradcheck([&](const std::vector<Tensor>& in) { return mean(in[0], dims, keepdim); },
                      {x});
      check_gradcheck([&](const std::vector<Tensor>& in) { return max(in[0], dims, keepdim); },
                      {x});
      check_gradcheck([&](const std::vector<Tensor>& in) { return min(in[0], dims, keepdim); },
                      {x});
      check_gradcheck(
          [&](const std::vector<Tensor>& in) { return var(in[0], dims, true, keepdim); }, {x});
    }
  }
  // Tied maxima share the gradient equally.
  Tensor tied = from_vector({2, 2, 1}, {3}).set_requires_grad();
  max(tied).backward();
  check_values(tied.grad(), {0.5f, 0.5f, 0});
}

TEST_CASE("sum_to undoes broadcasting") {
  const Tensor g = ones({2, 3, 4});
  check_values(sum_to(g, {4}), {6, 6, 6, 6});
  CHECK(sum_to(g, {3, 1}).shape() == Shape{3, 1});
  check_values(sum_to(g, {3, 1}), {8, 8, 8});
  CHECK(sum_to(g, {1, 1, 1}).item() == 24);
  CHECK_THROWS_WITH_AS(sum_to(g, {5}), doctest::Contains("sum_to: cannot reduce [2,3,4] to [5]"),
                       Error);
}

TEST_CASE("reduction errors") {
  CHECK_THROWS_WITH_AS(sum(ones({2, 3}), {2}),
                       doctest::Contains("sum: dim 2 is out of range for a tensor with 2 dims"),
                       Error);
  CHECK_THROWS_WITH_AS(sum(arange(3)), doctest::Contains("sum: expected a float32 tensor"), Error);
  CHECK_THROWS_WITH_AS(var(ones({1})), doctest::Contains("var: needs at least 2 elements"), Error);
  CHECK_THROWS_WITH_AS(max(zeros({0})), doctest::Contains("max: reducing an empty tensor"), Error);
  CHECK_THROWS_WITH_AS(sum(ones({2, 2}), {1, -1}), doctest::Contains("sum: a dim is repeated"),
                       Error);
}

TEST_CASE("max, min and argmax propagate NaN wherever it sits, as PyTorch does") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // The NaN first, in the middle, last: each reduction is NaN and argmax names the first NaN.
  for (const std::vector<float>& values :
       {std::vector<float>{nan, 1, 2}, {1, nan, 2}, {1, 2, nan}, {nan, 5, nan}}) {
    const Tensor x = from_vector(values, {3});
    INFO("values: ", values[0], " ", values[1], " ", values[2]);
    CHECK(std::isnan(max(x).item()));
    CHECK(std::isnan(min(x).item()));
    const int32_t first_nan = static_cast<int32_t>(
        std::find_if(values.begin(), values.end(), [](float v) { return std::isnan(v); }) -
        values.begin());
    CHECK(argmax(x, 0).to_vector<int32_t>() == std::vector<int32_t>{first_nan});
  }
  // Along a dim that is not the last (the strided loop): only the column with a NaN is NaN.
  const Tensor columns = from_vector({1, nan, 3, 4, 5, -1}, {2, 3});
  const std::vector<float> column_max = max(columns, {0}).to_vector<float>();
  CHECK(column_max[0] == 4);
  CHECK(std::isnan(column_max[1]));
  CHECK(column_max[2] == 3);
  CHECK(argmax(columns, 0).to_vector<int32_t>() == std::vector<int32_t>{1, 0, 0});
  CHECK(argmax(columns, 1).to_vector<int32_t>() == std::vector<int32_t>{1, 1});
  // Infinity is a number: the largest one, not a NaN.
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(max(from_vector({1, inf, 2}, {3})).item() == inf);
  CHECK(argmax(from_vector({-inf, -inf}, {2}), 0).to_vector<int32_t>() == std::vector<int32_t>{0});
}
