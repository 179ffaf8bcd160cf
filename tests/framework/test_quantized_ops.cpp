// Int8 quantization per row and the int8 linear product: hand values of the rounding, the
// round-trip error bound scale / 2 per row, weight-only and dynamic products against the float
// product within bounds derived from the rounding, and the errors a user can hit.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "framework/tapegrad.h"
#include "helpers.h"

using namespace tg;
using namespace tg::testing;

TEST_CASE("quantize_per_row rounds each row by its own scale max|w| / 127") {
  const Tensor w = from_vector({1.0f, -0.5f, 0.25f,      // scale 1/127: 127, -63.5, 31.75
                                0.0f, 0.0f, 0.0f,        // a zero row: scale 1, all 0
                                -254.0f, 127.0f, 1.0f},  // scale 2: -127, 63.5, 0.5
                               {3, 3});
  const Int8Matrix q = quantize_per_row(w);
  CHECK(q.rows == 3);
  CHECK(q.cols == 3);
  CHECK(q.values.shape() == Shape{3, 16});  // 64 bytes a row, four to an int32
  check_values(q.scale, {1.0f / 127, 1.0f, 2.0f}, 1e-7f);
  // Round half to even: -63.5 -> -64, 63.5 -> 64, 0.5 -> 0.
  const int8_t want[3][3] = {{127, -64, 32}, {0, 0, 0}, {-127, 64, 0}};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) {
      INFO("row ", r, " col ", c);
      CHECK(int8_at(q, r, c) == want[r][c]);
    }
  check_values(dequantize(q), {1.0f, -64.0f / 127, 32.0f / 127, 0, 0, 0, -254, 128, 0}, 1e-6f);
}

TEST_CASE("dequantize(quantize_per_row(w)) is within scale / 2 of w in every row") {
  Generator gen(3);
  // Rows of very different sizes: one scale per row keeps each within its own half step.
  const Tensor w = randn({37, 100}, gen);
  std::vector<float> row_size(37);
  for (int r = 0; r < 37; ++r) row_size[r] = std::pow(10.0f, static_cast<float>(r % 5) - 2);
  const Tensor sized = w * from_vector(row_size, {37, 1});
  const Int8Matrix q = quantize_per_row(sized);
  const std::vector<float> original = sized.to_vector<float>();
  const std::vector<float> back = dequantize(q).to_vector<float>();
  const std::vector<float> scale = q.scale.to_vector<float>();
  for (int r = 0; r < 37; ++r) {
    float worst = 0, max_abs = 0;
    int largest_q = 0;
    for (int c = 0; c < 100; ++c) {
      worst = std::max(worst, std::abs(back[r * 100 + c] - original[r * 100 + c]));
      max_abs = std::max(max_abs, std::abs(original[r * 100 + c]));
      largest_q = std::max(largest_q, std::abs(int{int8_at(q, r, c)}));
    }
    INFO("row ", r);
    CHECK(scale[r] == doctest::Approx(max_abs / 127).epsilon(1e-6));
    CHECK(worst <= scale[r] / 2 * (1 + 1e-5f));
    CHECK(largest_q == 127);  // the largest value uses the whole range
  }
}

TEST_CASE("linear_int8 weight-only equals the float product on the dequantized weight") {
  Generator gen(4);
  const Tensor w = randn({7, 45}, gen), b = randn({7}, gen), x = randn({2, 3, 45}, gen);
  const Int8Matrix q = quantize_per_row(w);
  const Tensor y = linear_int8(x, q, b, Int8Activations::Float);
  CHECK(y.shape() == Shape{2, 3, 7});
  check_close(y.to_vector<float>(), linear(x, dequantize(q), b).to_vector<float>(), 1e-5f);
}

TEST_CASE("linear_int8 dynamic is within the bound of rounding x per row") {
  // Rounding x's row m by s_m = max|x_m| / 127 moves each x[m, k] by at most s_m / 2, so
  //   |y_dynamic[m, n] - y_weight_only[m, n]| <= s_m / 2 * sum_k |W~[n, k]|,  W~ = q scale_n.
  Generator gen(5);
  const int64_t m = 9, n = 11, k = 200;
  const Tensor w = randn({n, k}, gen), b = randn({n}, gen), x = randn({m, k}, gen);
  const Int8Matrix q = quantize_per_row(w);
  const std::vector<float> dynamic =
      linear_int8(x, q, b, Int8Activations::Dynamic).to_vector<float>();
  const std::vector<float> exact = linear(x, dequantize(q), b).to_vector<float>();
  const std::vector<float> xs = x.to_vector<float>(), ws = dequantize(q).to_vector<float>();
  int64_t changed = 0;
  for (int64_t i = 0; i < m; ++i) {
    float max_abs = 0;
    for (int64_t c = 0; c < k; ++c) max_abs = std::max(max_abs, std::abs(xs[i * k + c]));
    for (int64_t j = 0; j < n; ++j) {
      float w_sum = 0;
      for (int64_t c = 0; c < k; ++c) w_sum += std::abs(ws[j * k + c]);
      const float bound = max_abs / 127 / 2 * w_sum * (1 + 1e-4f) + 1e-5f;
      const float error = std::abs(dynamic[i * n + j] - exact[i * n + j]);
      INFO("row ", i, " column ", j, ": error ", error, ", bound ", bound);
      CHECK(error <= bound);
      changed += error > 0;
    }
  }
  CHECK(changed > 0);  // the activations were quantized, not passed through
}

TEST_CASE("linear_int8 dynamic gives the bias for rows of zeros") {
  Generator gen(6);
  const Int8Matrix q = quantize_per_row(randn({3, 5}, gen));
  const Tensor y = linear_int8(zeros({2, 5}), q, from_vector({1.0f, -2.0f, 0.5f}, {3}),
                               Int8Activations::Dynamic);
  check_values(y, {1, -2, 0.5f, 1, -2, 0.5f});
}

TEST_CASE("linear_int8 refuses a wrong input width and has no backward") {
  Generator gen(7);
  const Int8Matrix q = quantize_per_row(randn({3, 5}, gen));
  CHECK_THROWS_WITH_AS(linear_int8(zeros({2, 4}), q, {}, Int8Activations::Float),
                       "linear_int8: expected x [..., 5] for an int8 weight [3, 5], got [2,4]",
                       Error);
  const Tensor x = randn({2, 5}, gen).set_requires_grad();
  const Tensor y = linear_int8(x, q, {}, Int8Activations::Dynamic);
  CHECK_THROWS_WITH_AS(sum(y).backward(),
                       doctest::Contains("linear_int8: an int8-quantized layer has no backward"),
                       Error);
}

TEST_CASE("quantize_per_row, int8_at and linear_int8 name what they expected") {
  CHECK_THROWS_WITH_AS(quantize_per_row(zeros({2, 3, 4})),
                       "quantize_per_row: expected a weight [rows, cols], got [2,3,4]", Error);
  CHECK_THROWS_WITH_AS(quantize_per_row(zeros({2, 3}, DType::Int32)),
                       doctest::Contains("quantize_per_row: expected a float32 tensor"), Error);
  const Int8Matrix q = quantize_per_row(ones({3, 5}));
  CHECK_THROWS_WITH_AS(int8_at(q, 3, 0), "int8_at: [3, 0] is outside [3, 5]", Error);
  CHECK_THROWS_WITH_AS(linear_int8(zeros({2, 5}), q, zeros({4}), Int8Activations::Float),
                       "linear_int8: expected bias [3], got [4]", Error);
  Int8Matrix unpacked = q;
  unpacked.values = zeros({3, 5}, DType::Int32);  // one int32 per value: not the packed layout
  CHECK_THROWS_WITH_AS(linear_int8(zeros({2, 5}), unpacked, {}, Int8Activations::Float),
                       "linear_int8: expected int8 values packed as int32 [3, 16], got int32 [3,5]",
                       Error);
}
