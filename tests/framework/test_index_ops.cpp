// index_select and embedding: gathered values, the scatter-add backward (repeated indices
// accumulate, padding rows get nothing), gradcheck, and every error message.
#include <doctest/doctest.h>

#include <vector>

#include "framework/tapegrad.h"

using namespace tg;

namespace {

Tensor random_leaf(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, gen).set_requires_grad();
}

// 0, 1, 2, ... as float32 in the given shape.
Tensor counting(const Shape& shape) {
  std::vector<float> values(numel_of(shape));
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i);
  return from_vector(values, shape);
}

}  // namespace

// ---- index_select ----

TEST_CASE("index_select gathers rows along dim 0 and columns along dim 1") {
  const Tensor x = counting({3, 4});  // row r is 4r .. 4r+3
  const Tensor rows = from_vector(std::vector<int32_t>{2, 0, 2}, {3});
  const Tensor picked_rows = index_select(x, 0, rows);
  CHECK(picked_rows.shape() == Shape{3, 4});
  CHECK(picked_rows.to_vector<float>() ==
        std::vector<float>{8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11});

  const Tensor columns = from_vector(std::vector<int32_t>{3, 1}, {2});
  const Tensor picked_columns = index_select(x, -1, columns);
  CHECK(picked_columns.shape() == Shape{3, 2});
  CHECK(picked_columns.to_vector<float>() == std::vector<float>{3, 1, 7, 5, 11, 9});

  // A middle dim of a 3-D tensor: [2, 3, 2] picking dim-1 entries 1, 1.
  const Tensor cube = counting({2, 3, 2});
  const Tensor middle = index_select(cube, 1, from_vector(std::vector<int32_t>{1, 1}, {2}));
  CHECK(middle.shape() == Shape{2, 2, 2});
  CHECK(middle.to_vector<float>() == std::vector<float>{2, 3, 2, 3, 8, 9, 8, 9});
}

TEST_CASE("index_select backward adds into the picked rows, repeats accumulating") {
  const Tensor x = random_leaf({3, 2}, 1);
  const Tensor index = from_vector(std::vector<int32_t>{2, 0, 2, 2}, {4});
  index_select(x, 0, index).sum().backward();
  CHECK(x.grad().to_vector<float>() == std::vector<float>{1, 1, 0, 0, 3, 3});
}

TEST_CASE("index_select passes gradcheck along dims 0 and 1") {
  const Tensor index = from_vector(std::vector<int32_t>{1, 0, 1}, {3});
  for (const int64_t dim : {0, 1, -1}) {
    CAPTURE(dim);
    auto f = [&](const std::vector<Tensor>& in) { return index_select(in[0], dim, index); };
    const GradcheckResult r = gradcheck(f, {random_leaf({2, 3, 2}, 2)});
    CHECK_MESSAGE(r.ok, r.report);
  }
}

TEST_CASE("index_select errors name the op, what was expected and what came") {
  const Tensor x = zeros({5, 2});
  CHECK_THROWS_WITH_AS(
      index_select(x, 0, from_vector(std::vector<int32_t>{0, 7}, {2})),
      doctest::Contains("index_select: index 7 at position 1 is out of range [0, 5)"), Error);
  CHECK_THROWS_WITH_AS(
      index_select(x, 1, from_vector(std::vector<int32_t>{-1}, {1})),
      doctest::Contains("index_select: index -1 at position 0 is out of range [0, 2)"), Error);
  CHECK_THROWS_WITH_AS(index_select(x, 0, zeros({2})),
                       doctest::Contains("index_select: index must be int32, got float32"), Error);
  CHECK_THROWS_WITH_AS(index_select(x, 0, zeros({2, 1}, DType::Int32)),
                       doctest::Contains("index_select: index must be 1-D, got shape [2,1]"),
                       Error);
  CHECK_THROWS_WITH_AS(index_select(x, 2, zeros({1}, DType::Int32)),
                       doctest::Contains("index_select: dim 2 is out of range"), Error);
  CHECK_THROWS_WITH_AS(index_select(scalar(1.0f), 0, zeros({1}, DType::Int32)),
                       doctest::Contains("index_select: needs at least one dimension"), Error);
}

// ---- embedding ----

TEST_CASE("embedding looks up rows: ids (2, 2) give (2, 2, dim)") {
  const Tensor weight = counting({5, 3});  // row v is 3v .. 3v+2
  const Tensor ids = from_vector(std::vector<int32_t>{4, 0, 1, 4}, {2, 2});
  const Tensor out = embedding(weight, ids);
  CHECK(out.shape() == Shape{2, 2, 3});
  CHECK(out.to_vector<float>() == std::vector<float>{12, 13, 14, 0, 1, 2, 3, 4, 5, 12, 13, 14});
  // A 0-dim id gives one row of shape [dim].
  CHECK(embedding(weight, from_vector(std::vector<int32_t>{2}, {})).shape() == Shape{3});
}

TEST_CASE("embedding backward: counts per id, and exactly zero for padding_idx") {
  const Tensor weight = random_leaf({4, 2}, 3);
  const Tensor ids = from_vector(std::vector<int32_t>{1, 0, 1, 3, 0, 0}, {2, 3});
  const Tensor out = embedding(weight, ids, /*padding_idx=*/0);
  // The padding row is still looked up in the forward; it only learns nothing.
  const std::vector<float> w = weight.to_vector<float>(), o = out.to_vector<float>();
  CHECK(o[2] == w[0]);
  out.sum().backward();
  CHECK(weight.grad().to_vector<float>() == std::vector<float>{0, 0, 2, 2, 0, 0, 1, 1});

  // The padding row's true derivative is not zero (the forward reads it): weigh the padded
  // outputs by 0 so it is, and gradcheck checks every other row with padding_idx set.
  const Tensor not_padding = ne(ids, zeros({}, DType::Int32)).to(DType::Float32).unsqueeze(-1);
  auto f = [&](const std::vector<Tensor>& in) { return embedding(in[0], ids, 0) * not_padding; };
  const GradcheckResult r = gradcheck(f, {random_leaf({4, 2}, 4)});
  CHECK_MESSAGE(r.ok, r.report);
  auto no_padding = [&](const std::vector<Tensor>& in) { return embedding(in[0], ids); };
  const GradcheckResult r2 = gradcheck(no_padding, {random_leaf({4, 2}, 5)});
  CHECK_MESSAGE(r2.ok, r2.report);
}

TEST_CASE("embedding errors name the op, what was expected and what came") {
  const Tensor weight = zeros({50, 4});
  CHECK_THROWS_WITH_AS(embedding(weight, from_vector(std::vector<int32_t>{3, 57}, {2})),
                       doctest::Contains("embedding: id 57 at position 1 is out of range [0, 50)"),
                       Error);
  CHECK_THROWS_WITH_AS(embedding(weight, from_vector(std::vector<int32_t>{-2}, {1})),
                       doctest::Contains("embedding: id -2 at position 0 is out of range [0, 50)"),
                       Error);
  CHECK_THROWS_WITH_AS(embedding(weight, zeros({2})),
                       doctest::Contains("embedding: ids must be int32, got float32"), Error);
  CHECK_THROWS_WITH_AS(embedding(zeros({50}), zeros({2}, DType::Int32)),
                       doctest::Contains("embedding: weight must be 2-D [num_embeddings, dim], "
                                         "got shape [50]"),
                       Error);
  CHECK_THROWS_WITH_AS(embedding(weight, zeros({2}, DType::Int32), 50),
                       doctest::Contains("embedding: padding_idx 50 is out of range [0, 50)"),
                       Error);
}
