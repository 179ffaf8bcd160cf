#include <doctest/doctest.h>

#include "tests/framework/helpers.h"

using namespace tg;
using tg::testing::check_gradcheck;
using tg::testing::check_values;
using tg::testing::param;

TEST_CASE("matmul forward by hand, with each transpose flag") {
  const Tensor a = from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor b = from_vector({1, 0, 0, 1, 1, 1}, {3, 2});
  check_values(matmul(a, b), {4, 5, 10, 11});  // [[1+3, 2+3], [4+6, 5+6]]
  check_values(matmul(transpose(a, 0, 1), b, /*trans_a=*/true), {4, 5, 10, 11});
  check_values(matmul(a, transpose(b, 0, 1), false, /*trans_b=*/true), {4, 5, 10, 11});
  check_values(matmul(a, a, false, true), {14, 32, 32, 77});  // a a^T
}

TEST_CASE("batched matmul: batches, broadcasting of leading dims, a shared 2-D matrix") {
  Generator gen(3);
  const Tensor a = randn({2, 3, 4, 5}, gen);
  const Tensor w = randn({5, 6}, gen);
  const Tensor batched_w = randn({3, 5, 6}, gen);
  // Each batch element equals its own 2-D product.
  const Tensor c = matmul(a, w);
  CHECK(c.shape() == Shape{2, 3, 4, 6});
  check_values(select(select(c, 0, 1), 0, 2),
               matmul(select(select(a, 0, 1), 0, 2), w).to_vector<float>(), 1e-4f);
  const Tensor d = matmul(a, batched_w);  // [2,3,...] with [3,...] broadcasts
  check_values(select(select(d, 0, 1), 0, 2),
               matmul(select(select(a, 0, 1), 0, 2), select(batched_w, 0, 2)).to_vector<float>(),
               1e-4f);
}

TEST_CASE("gradcheck: matmul with transposes, batches and broadcasting") {
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      const Tensor a = param(ta ? Shape{4, 3} : Shape{3, 4}, 41);
      const Tensor b = param(tb ? Shape{2, 4} : Shape{4, 2}, 42);
      check_gradcheck(
          [ta, tb](const std::vector<Tensor>& in) { return matmul(in[0], in[1], ta, tb); }, {a, b});
      const Tensor ba = param(ta ? Shape{2, 4, 3} : Shape{2, 3, 4}, 43);
      const Tensor bb = param(tb ? Shape{2, 2, 4} : Shape{2, 4, 2}, 44);
      check_gradcheck(
          [ta, tb](const std::vector<Tensor>& in) { return matmul(in[0], in[1], ta, tb); },
          {ba, bb});
      // A 2-D right operand shared by the batch.
      check_gradcheck(
          [ta, tb](const std::vector<Tensor>& in) { return matmul(in[0], in[1], ta, tb); },
          {ba, b});
    }
  }
  // Broadcast leading dims: [2,1,3,4] x [3,4,2].
  check_gradcheck([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); },
                  {param({2, 1, 3, 4}, 45), param({3, 4, 2}, 46)});
}

TEST_CASE("matmul errors name the shapes") {
  CHECK_THROWS_WITH_AS(matmul(ones({32, 64}), ones({32, 10})),
                       doctest::Contains("matmul: inner dimensions differ: [32,64] x [32,10]"),
                       Error);
  CHECK_THROWS_WITH_AS(matmul(ones({3}), ones({3, 2})),
                       doctest::Contains("matmul: both operands need at least 2 dims"), Error);
  CHECK_THROWS_WITH_AS(matmul(ones({2, 2, 3}), ones({3, 3, 2})),
                       doctest::Contains("matmul: shapes [2] and [3] cannot be broadcast"), Error);
  CHECK_THROWS_WITH_AS(matmul(arange(4).reshape({2, 2}), ones({2, 2})),
                       doctest::Contains("matmul: expected a float32 tensor, got int32"), Error);
}

TEST_CASE("linear: x W^T + bias by hand, for each bias form") {
  const Tensor x = from_vector({1, 2, 3, 4}, {2, 2});
  const Tensor w = from_vector({1, 0, 1, 1, 0, 2}, {3, 2});  // rows: x0, x0 + x1, 2 x1
  check_values(linear(x, w), {1, 3, 4, 3, 7, 8});
  check_values(linear(x, w, from_vector({10, 20, 30}, {3})), {11, 23, 34, 13, 27, 38});
  const Tensor per_element = from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  check_values(linear(x, w, per_element), {2, 5, 7, 7, 12, 14});
  check_values(linear(from_vector({1, 2}, {2}), w), {1, 3, 4});  // 1-D x gives 1-D y
  const Tensor batched = linear(x.reshape({1, 2, 2}), w);
  CHECK(batched.shape() == Shape{1, 2, 3});
  check_values(batched, {1, 3, 4, 3, 7, 8});
}

TEST_CASE("linear equals matmul plus bias, values and gradients") {
  Generator gen(5);
  const Tensor x = randn({4, 3, 6}, gen).set_requires_grad();
  const Tensor w = randn({5, 6}, gen).set_requires_grad();
  const Tensor b = randn({5}, gen).set_requires_grad();
  const Tensor weights = randn({4, 3, 5}, gen);
  const Tensor y = linear(x, w, b);
  sum(y * weights).backward();
  const std::vector<float> gx = x.grad().to_vector<float>(), gw = w.grad().to_vector<float>(),
                           gb = b.grad().to_vector<float>();
  const Tensor x2 = x.detach().set_requires_grad(), w2 = w.detach().set_requires_grad(),
               b2 = b.detach().set_requires_grad();
  const Tensor reference = matmul(x2, w2, false, true) + b2;
  sum(reference * weights).backward();
  tg::testing::check_close(y.to_vector<float>(), reference.to_vector<float>());
  tg::testing::check_close(gx, x2.grad().to_vector<float>());
  tg::testing::check_close(gw, w2.grad().to_vector<float>());
  tg::testing::check_close(gb, b2.grad().to_vector<float>());
}

// linear adds a parameter's dW into its .grad itself (a gemm with beta = 1) rather than through
// the engine: the sum must be the same over several uses in one graph (an RNN's steps), over
// backward calls, into a gradient set by hand, and a wrong one must still be refused.
TEST_CASE("linear adds a parameter's gradient into .grad as the engine would") {
  Generator gen(6);
  const Tensor w = randn({5, 4}, gen).set_requires_grad();
  const Tensor reference_w = w.detach().set_requires_grad();
  const Tensor x1 = randn({3, 4}, gen), x2 = randn({2, 3, 4}, gen).set_requires_grad();
  const Tensor g1 = randn({3, 5}, gen), g2 = randn({2, 3, 5}, gen);
  auto loss = [&](const Tensor& weight, bool through_linear) {
    auto product = [&](const Tensor& x) {
      return through_linear ? linear(x, weight) : matmul(x, weight, false, true);
    };
    return sum(product(x1) * g1) + sum(product(x2) * g2);  // the weight used twice
  };
  loss(w, true).backward();
  const std::vector<float> x2_grad = x2.grad().to_vector<float>();
  x2.zero_grad();
  loss(reference_w, false).backward();
  tg::testing::check_close(w.grad().to_vector<float>(), reference_w.grad().to_vector<float>());
  tg::testing::check_close(x2_grad, x2.grad().to_vector<float>());
  // dW = sum over both uses of G^T X, by hand for one element: row 0 of G against column 0 of X.
  float by_hand = 0;
  for (int64_t r = 0; r < 3; ++r)
    by_hand += g1.to_vector<float>()[r * 5] * x1.to_vector<float>()[r * 4];
  for (int64_t r = 0; r < 6; ++r)
    by_hand += g2.to_vector<float>()[r * 5] * x2.to_vector<float>()[r * 4];
  CHECK(w.grad().to_vector<float>()[0] == doctest::Approx(by_hand).epsilon(1e-5));

  // A second backward adds to the first; a gradient set by hand is added to as well.
  loss(w, true).backward();
  tg::testing::check_close(w.grad().to_vector<float>(),
                           (reference_w.grad() * 2.0f).to_vector<float>());
  w.set_grad(ones({5, 4}));
  loss(w, true).backward();
  tg::testing::check_close(w.grad().to_vector<float>(),
                           (reference_w.grad() + 1.0f).to_vector<float>());
  w.set_grad(zeros({4, 5}));  // the transpose's shape: refused by the engine, nothing overrun
  CHECK_THROWS_WITH_AS(loss(w, true).backward(),
                       doctest::Contains("a leaf of shape [5,4] holds a gradient of float32 [4,5]"),
                       Error);
  tape().clear();
}

TEST_CASE("linear errors name the shapes") {
  CHECK_THROWS_WITH_AS(linear(ones({2, 3}), ones({4, 5})),
                       doctest::Contains("linear: expected x [..., 5] for weight [4,5], got [2,3]"),
                       Error);
  CHECK_THROWS_WITH_AS(linear(ones({2, 3}), ones({3})),
                       doctest::Contains("linear: expected weight [out, in], got [3]"), Error);
  CHECK_THROWS_WITH_AS(linear(ones({2, 3}), ones({4, 3}), ones({3})),
                       doctest::Contains("linear: expected bias [4] or [2,4], got [3]"), Error);
  CHECK_THROWS_WITH_AS(linear(arange(6).reshape({2, 3}), ones({4, 3})),
                       doctest::Contains("linear: expected a float32 tensor, got int32"), Error);
}
