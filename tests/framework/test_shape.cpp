#include <doctest/doctest.h>

#include "tests/framework/helpers.h"

using namespace tg;
using tg::testing::check_gradcheck;
using tg::testing::check_values;
using tg::testing::param;

TEST_CASE("permute and transpose move elements as indexing says") {
  const Tensor x = from_vector({0, 1, 2, 3, 4, 5}, {2, 3});
  check_values(transpose(x, 0, 1), {0, 3, 1, 4, 2, 5});
  const Tensor y = arange(24).to(DType::Float32).reshape({2, 3, 4});
  const Tensor p = permute(y, {2, 0, 1});  // p[k][i][j] = y[i][j][k] = 12i + 4j + k
  CHECK(p.shape() == Shape{4, 2, 3});
  const std::vector<float> values = p.to_vector<float>();
  CHECK(values[(3 * 2 + 1) * 3 + 2] == 12 * 1 + 4 * 2 + 3);
  check_gradcheck(
      [](const std::vector<Tensor>& in) {
        return permute(in[0], {2, 0, 1});
      },
      {param({2, 3, 4}, 31)});
  check_gradcheck([](const std::vector<Tensor>& in) { return transpose(in[0], -1, -2); },
                  {param({2, 3, 4}, 32)});
}

// Every element checked, for the permutations attention makes: the head split [B, L, H, D] ->
// [B, H, L, D] (the CPU kernel walks the last two output dims as blocks), and a full reversal.
TEST_CASE("permute of 4-D tensors: every element where indexing says") {
  const Tensor x = arange(2 * 3 * 4 * 5).reshape({2, 3, 4, 5});
  const std::vector<int32_t> in = x.to_vector<int32_t>();
  const auto at = [&](int64_t a, int64_t b, int64_t c, int64_t d) {
    return in[((a * 3 + b) * 4 + c) * 5 + d];
  };
  const std::vector<int32_t> heads = permute(x, {0, 2, 1, 3}).to_vector<int32_t>();
  const std::vector<int32_t> reversed = permute(x, {3, 2, 1, 0}).to_vector<int32_t>();
  int wrong = 0;
  for (int64_t a = 0; a < 2; ++a)
    for (int64_t b = 0; b < 3; ++b)
      for (int64_t c = 0; c < 4; ++c)
        for (int64_t d = 0; d < 5; ++d) {
          wrong += heads[((a * 4 + c) * 3 + b) * 5 + d] != at(a, b, c, d);
          wrong += reversed[((d * 4 + c) * 3 + b) * 2 + a] != at(a, b, c, d);
        }
  CHECK(wrong == 0);
}

TEST_CASE("narrow, select, concat, stack, split, chunk") {
  const Tensor x = arange(12).to(DType::Float32).reshape({3, 4});
  check_values(narrow(x, 0, 1, 2), {4, 5, 6, 7, 8, 9, 10, 11});
  CHECK(narrow(x, 0, 1, 2).storage() == x.storage());  // dim 0: a view
  check_values(narrow(x, 1, 1, 2), {1, 2, 5, 6, 9, 10});
  check_values(select(x, 1, -1), {3, 7, 11});
  check_values(concat({x, x}, 0).reshape({-1}), [] {
    std::vector<float> v;
    for (int r = 0; r < 2; ++r)
      for (int i = 0; i < 12; ++i) v.push_back(static_cast<float>(i));
    return v;
  }());
  const Tensor c = concat({narrow(x, 1, 0, 1), narrow(x, 1, 3, 1)}, 1);
  check_values(c, {0, 3, 4, 7, 8, 11});
  CHECK(stack({ones({2}), zeros({2})}, 1).shape() == Shape{2, 2});
  check_values(stack({ones({2}), zeros({2})}, 1), {1, 0, 1, 0});
  const auto parts = split(x, 3, 1);
  REQUIRE(parts.size() == 2);
  CHECK(parts[1].shape() == Shape{3, 1});
  CHECK(chunk(x, 3, 0).size() == 3);
  CHECK(concat({arange(2), arange(3)}, 0).to_vector<int32_t>() ==
        std::vector<int32_t>{0, 1, 0, 1, 2});
}

TEST_CASE("gradcheck: narrow, select, concat, stack, split, expand, reshape") {
  const Tensor x = param({3, 4}, 33);
  check_gradcheck([](const std::vector<Tensor>& in) { return narrow(in[0], 1, 1, 2); }, {x});
  check_gradcheck([](const std::vector<Tensor>& in) { return narrow(in[0], 0, 1, 2); }, {x});
  check_gradcheck([](const std::vector<Tensor>& in) { return select(in[0], 0, 2); }, {x});
  check_gradcheck(
      [](const std::vector<Tensor>& in) {
        return concat({in[0], in[1]}, 1);
      },
      {x, param({3, 2}, 34)});
  check_gradcheck(
      [](const std::vector<Tensor>& in) {
        return stack({in[0], in[1]}, 0);
      },
      {x, param({3, 4}, 35)});
  check_gradcheck([](const std::vector<Tensor>& in) { return split(in[0], 3, 1)[1] * 2.0f; }, {x});
  check_gradcheck(
      [](const std::vector<Tensor>& in) {
        return expand(in[0], {2, 3, 4});
      },
      {param({3, 1}, 36)});
  check_gradcheck(
      [](const std::vector<Tensor>& in) {
        return in[0].reshape({2, 6}).unsqueeze(0);
      },
      {x});
}

TEST_CASE("shape errors name the op and the shapes") {
  const Tensor x = ones({2, 3});
  CHECK_THROWS_WITH_AS(x.reshape({4, 2}),
                       doctest::Contains("reshape: cannot view [2,3] (6 elements) as [4,2]"),
                       Error);
  CHECK_THROWS_WITH_AS(x.reshape({-1, -1}), doctest::Contains("more than one -1"), Error);
  CHECK_THROWS_WITH_AS(x.squeeze(0), doctest::Contains("squeeze: dim 0 of [2,3] has size 2"),
                       Error);
  CHECK_THROWS_WITH_AS(
      narrow(x, 1, 2, 2),
      doctest::Contains("narrow: range [2, 4) is out of bounds for dim 1 of size 3"), Error);
  CHECK_THROWS_WITH_AS(concat({x, ones({3, 3})}, 1),
                       doctest::Contains("concat: shapes [2,3] and [3,3] differ outside dim 1"),
                       Error);
  CHECK_THROWS_WITH_AS(permute(x, {0, 0}), doctest::Contains("permute: a dim is repeated"), Error);
  CHECK_THROWS_WITH_AS(permute(x, {0}),
                       doctest::Contains("permute: got 1 dims for a tensor of shape [2,3]"), Error);
  CHECK_THROWS_WITH_AS(expand(ones({2}), {3}), doctest::Contains("expand: shapes [2] and [3]"),
                       Error);
  CHECK_THROWS_WITH_AS(stack({ones({2}), ones({3})}, 0), doctest::Contains("stack: shapes differ"),
                       Error);
  CHECK_THROWS_WITH_AS(select(x, 0, 5), doctest::Contains("select: index 5 is out of range"),
                       Error);
}

TEST_CASE("unbind gives views along dim 0 and copies elsewhere, recorded as one op") {
  const Tensor x = arange(6).to(DType::Float32).reshape({3, 2});
  const auto rows = unbind(x, 0);
  REQUIRE(rows.size() == 3);
  CHECK(rows[1].shape() == Shape{2});
  CHECK(rows[1].storage() == x.storage());
  check_values(rows[2], {4, 5});
  const auto columns = unbind(x, 1);
  check_values(columns[1], {1, 3, 5});
  CHECK_THROWS_WITH_AS(unbind(scalar(1), 0), doctest::Contains("unbind: needs at least one dim"),
                       Error);

  Tensor p = param({4, 3}, 37);
  const auto pieces = unbind(p, 0);
  CHECK(tape().size() == 1);  // one record for all four pieces
  sum(pieces[0] * 2.0f + pieces[3]).backward();
  check_values(p.grad(), {2, 2, 2, 0, 0, 0, 0, 0, 0, 1, 1, 1});  // unused pieces get zeros
}

TEST_CASE("gradcheck: unbind along each dim, some pieces unused") {
  check_gradcheck(
      [](const std::vector<Tensor>& in) {
        const auto parts = unbind(in[0], 1);
        return parts[0] * parts[2];
      },
      {param({2, 3, 2}, 38)});
  check_gradcheck([](const std::vector<Tensor>& in) { return unbind(in[0], -1)[1]; },
                  {param({2, 3}, 39)});
  check_gradcheck(
      [](const std::vector<Tensor>& in) {
        const auto parts = chunk(in[0], 2, 0);
        return parts[0] - parts[1];
      },
      {param({4, 3}, 40)});
}
