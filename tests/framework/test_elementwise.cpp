#include <doctest/doctest.h>

#include <cmath>

#include "tests/framework/helpers.h"

using namespace tg;
using tg::testing::check_gradcheck;
using tg::testing::check_values;
using tg::testing::param;

TEST_CASE("arithmetic forward values, with broadcasting") {
  const Tensor a = from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor row = from_vector({10, 20, 30}, {3});
  const Tensor col = from_vector({100, 200}, {2, 1});
  check_values(a + row, {11, 22, 33, 14, 25, 36});
  check_values(a - col, {-99, -98, -97, -196, -195, -194});
  check_values(a * 2.0f, {2, 4, 6, 8, 10, 12});
  check_values(1.0f / from_vector({2, 4}, {2}), {0.5f, 0.25f});
  check_values(row + col, {110, 120, 130, 210, 220, 230});  // [3] with [2,1] -> [2,3]
  check_values(maximum(a, full({1}, 3.5f)), {3.5f, 3.5f, 3.5f, 4, 5, 6});
  check_values(minimum(a, full({1}, 3.5f)), {1, 2, 3, 3.5f, 3.5f, 3.5f});
}

TEST_CASE("unary forward values against the formulas") {
  const std::vector<float> xs{-1.5f, -0.2f, 0.3f, 2.0f};
  const Tensor x = from_vector(xs, {4});
  std::vector<float> e, t, s, r, g, ab, cl;
  for (float v : xs) {
    e.push_back(std::exp(v));
    t.push_back(std::tanh(v));
    s.push_back(1 / (1 + std::exp(-v)));
    r.push_back(v > 0 ? v : 0);
    g.push_back(0.5f * v * (1 + std::erf(v / std::sqrt(2.0f))));
    ab.push_back(std::fabs(v));
    cl.push_back(std::fmin(std::fmax(v, -1.0f), 1.0f));
  }
  check_values(exp(x), e);
  check_values(tanh(x), t);
  check_values(sigmoid(x), s);
  check_values(relu(x), r);
  check_values(gelu(x), g);
  check_values(abs(x), ab);
  check_values(clamp(x, -1, 1), cl);
  check_values(-x, {1.5f, 0.2f, -0.3f, -2.0f});
  const Tensor p = from_vector({1, 4, 9}, {3});
  check_values(sqrt(p), {1, 2, 3});
  check_values(log(p), {0, std::log(4.0f), std::log(9.0f)});
  check_values(pow(p, 1.5f), {1, 8, 27});
}

TEST_CASE("gradcheck: every unary op") {
  const Tensor x = param({3, 4}, 1);
  const Tensor positive = (abs(param({3, 4}, 2)) + 0.5f).detach().set_requires_grad();
  auto unary = [](Tensor (*f)(const Tensor&)) {
    return [f](const std::vector<Tensor>& in) { return f(in[0]); };
  };
  check_gradcheck(unary(neg), {x});
  check_gradcheck(unary(exp), {x});
  check_gradcheck(unary(tanh), {x});
  check_gradcheck(unary(sigmoid), {x});
  check_gradcheck(unary(relu), {x});
  check_gradcheck(unary(gelu), {x});
  check_gradcheck(unary(abs), {x});
  check_gradcheck(unary(log), {positive});
  check_gradcheck(unary(sqrt), {positive});
  check_gradcheck([](const std::vector<Tensor>& in) { return pow(in[0], 2.5f); }, {positive});
  check_gradcheck([](const std::vector<Tensor>& in) { return clamp(in[0], -0.5f, 0.5f); }, {x});
}

TEST_CASE("gradcheck: binary ops with broadcasting both ways") {
  const Tensor a = param({2, 3, 4}, 3);
  const Tensor row = param({4}, 4);
  const Tensor col = param({2, 1, 1}, 5);
  const Tensor away_from_zero = (abs(param({3, 1}, 6)) + 1.0f).detach().set_requires_grad();
  for (const Tensor& b : {row, col, param({2, 3, 4}, 7)}) {
    check_gradcheck([](const std::vector<Tensor>& in) { return in[0] + in[1]; }, {a, b});
    check_gradcheck([](const std::vector<Tensor>& in) { return in[0] - in[1]; }, {a, b});
    check_gradcheck([](const std::vector<Tensor>& in) { return in[0] * in[1]; }, {a, b});
    check_gradcheck([](const std::vector<Tensor>& in) { return maximum(in[0], in[1]); }, {a, b});
    check_gradcheck([](const std::vector<Tensor>& in) { return minimum(in[0], in[1]); }, {a, b});
  }
  check_gradcheck([](const std::vector<Tensor>& in) { return in[0] / in[1]; },
                  {param({2, 3, 4}, 8), away_from_zero});
  check_gradcheck([](const std::vector<Tensor>& in) { return 2.0f - in[0] * 3.0f; }, {a});
}

TEST_CASE("comparisons give int32 masks, where and masked_fill") {
  const Tensor a = from_vector({1, 2, 3}, {3});
  const Tensor two = full({1}, 2);
  CHECK(lt(a, two).dtype() == DType::Int32);
  CHECK(lt(a, two).to_vector<int32_t>() == std::vector<int32_t>{1, 0, 0});
  CHECK(le(a, two).to_vector<int32_t>() == std::vector<int32_t>{1, 1, 0});
  CHECK(gt(a, two).to_vector<int32_t>() == std::vector<int32_t>{0, 0, 1});
  CHECK(ge(a, two).to_vector<int32_t>() == std::vector<int32_t>{0, 1, 1});
  CHECK(eq(a, two).to_vector<int32_t>() == std::vector<int32_t>{0, 1, 0});
  CHECK(ne(a, two).to_vector<int32_t>() == std::vector<int32_t>{1, 0, 1});
  CHECK(eq(arange(3), full({1}, 1, DType::Int32)).to_vector<int32_t>() ==
        std::vector<int32_t>{0, 1, 0});
  check_values(where(lt(a, two), a, zeros({3})), {1, 0, 0});
  // One-element branches broadcast as values: either one, both, with an Int32 or float cond.
  check_values(where(lt(a, two), a, scalar(-1.0f)), {1, -1, -1});
  check_values(where(lt(a, two), scalar(7.0f), a), {7, 2, 3});
  check_values(where(lt(a, two), scalar(7.0f), full({1}, -1.0f)), {7, -1, -1});
  check_values(where(from_vector({0.0f, 2.0f, 0.0f}, {3}), scalar(7.0f), a), {1, 7, 3});
  check_values(masked_fill(a, gt(a, two), -1), {1, 2, -1});
  const Tensor cond = from_vector(std::vector<int32_t>{1, 0}, {2, 1});
  check_gradcheck([cond](const std::vector<Tensor>& in) { return where(cond, in[0], in[1]); },
                  {param({2, 3}, 9), param({3}, 10)});
  check_gradcheck([cond](const std::vector<Tensor>& in) { return masked_fill(in[0], cond, 5); },
                  {param({2, 3}, 11)});
}

TEST_CASE("int32 arithmetic computes and is never recorded") {
  const Tensor lengths = from_vector(std::vector<int32_t>{3, 5}, {2});
  CHECK((lengths + lengths).to_vector<int32_t>() == std::vector<int32_t>{6, 10});
  CHECK_FALSE((lengths * lengths).requires_grad());
}

TEST_CASE("elementwise errors name the op and the shapes") {
  CHECK_THROWS_WITH_AS(ones({2, 3}) + ones({4}),
                       doctest::Contains("add: shapes [2,3] and [4] cannot be broadcast together"),
                       Error);
  CHECK_THROWS_WITH_AS(ones({2}) * arange(2), doctest::Contains("mul: dtypes differ"), Error);
  CHECK_THROWS_WITH_AS(exp(arange(2)),
                       doctest::Contains("exp: expected a float32 tensor, got int32"), Error);
  CHECK_THROWS_WITH_AS(clamp(ones({2}), 1, 0), doctest::Contains("clamp: low"), Error);
  CHECK_THROWS_WITH_AS(where(ones({2}), ones({3}), ones({2})),
                       doctest::Contains("where: shapes [2] and [3]"), Error);
}
