// small_gemm (framework/backend/cpu/cpu_small_gemm.h), the hand-written product for attention's
// small matrices, against the definition C = alpha op(A) op(B) + beta C summed in double, for
// every transpose combination, sizes that are and are not multiples of its 4 x 16 tiles, and
// leading dimensions wider than the matrices. Then through tg::matmul, on the batched path
// that calls it, against OpenBLAS's result for the same shapes.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "framework/backend/cpu/cpu_small_gemm.h"
#include "framework/tapegrad.h"
#include "tests/framework/helpers.h"

namespace tg {
namespace {

std::vector<float> numbers(int64_t count, uint64_t seed) {
  Generator gen(seed);
  return randn({count}, gen).to_vector<float>();
}

struct Case {
  bool trans_a, trans_b;
  int64_t m, n, k;
};

void check_against_definition(const Case& c, float alpha, float beta) {
  // Stored widths 3 wider than needed: the kernel must use lda/ldb/ldc, not the sizes.
  const int64_t lda = (c.trans_a ? c.m : c.k) + 3, ldb = (c.trans_b ? c.k : c.n) + 3, ldc = c.n + 3;
  const std::vector<float> a = numbers((c.trans_a ? c.k : c.m) * lda, 1);
  const std::vector<float> b = numbers((c.trans_b ? c.n : c.k) * ldb, 2);
  std::vector<float> out = numbers(c.m * ldc, 3);
  const std::vector<float> before = out;
  small_gemm(c.trans_a, c.trans_b, c.m, c.n, c.k, alpha, a.data(), lda, b.data(), ldb, beta,
             out.data(), ldc);
  const std::string what = "trans_a " + std::to_string(c.trans_a) + " trans_b " +
                           std::to_string(c.trans_b) + " m " + std::to_string(c.m) + " n " +
                           std::to_string(c.n) + " k " + std::to_string(c.k);
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      const size_t at = static_cast<size_t>(i * ldc + j);
      if (j >= c.n) {  // beyond the matrix: untouched
        CHECK_MESSAGE(out[at] == before[at], what);
        continue;
      }
      double sum = 0.0;
      for (int64_t p = 0; p < c.k; ++p) {
        const double a_ip =
            c.trans_a ? a[static_cast<size_t>(p * lda + i)] : a[static_cast<size_t>(i * lda + p)];
        const double b_pj =
            c.trans_b ? b[static_cast<size_t>(j * ldb + p)] : b[static_cast<size_t>(p * ldb + j)];
        sum += a_ip * b_pj;
      }
      const double want = alpha * sum + beta * before[at];
      CHECK_MESSAGE(std::abs(out[at] - want) <= 1e-5 * (1.0 + std::abs(want)),
                    what << " at " << i << ", " << j << ": " << out[at] << " want " << want);
    }
  }
}

// m runs through every way rows are left over below the tiles of 6: 64 = 6*10 + 4, 7 = 6 + 1,
// 9 = 6 + 2 + 1, 11 = 6 + 4 + 1, 8 = 6 + 2, 5 = 4 + 1, 1.
TEST_CASE("small_gemm equals the definition for every transpose and ragged sizes") {
  for (bool trans_a : {false, true})
    for (bool trans_b : {false, true})
      for (const Case sizes : {Case{false, false, 64, 64, 16}, Case{false, false, 64, 16, 64},
                               Case{false, false, 7, 19, 5}, Case{false, false, 1, 1, 1},
                               Case{false, false, 5, 33, 0}, Case{false, false, 9, 16, 3},
                               Case{false, false, 11, 16, 4}, Case{false, false, 8, 20, 6},
                               // one column or one row of C (matrix times vector): attention
                               // over LSTM states, k past and short of the 32 of a vector loop
                               Case{false, false, 10, 1, 256}, Case{false, false, 1, 10, 256},
                               Case{false, false, 256, 1, 10}, Case{false, false, 1, 256, 10},
                               Case{false, false, 3, 1, 45}, Case{false, false, 1, 1, 7},
                               Case{false, false, 4, 1, 0}}) {
        const Case c{trans_a, trans_b, sizes.m, sizes.n, sizes.k};
        check_against_definition(c, 1.0f, 0.0f);
        check_against_definition(c, 0.5f, -2.0f);
      }
}

TEST_CASE("small_gemm with beta 0 never reads C, so NaN there does not leak") {
  const std::vector<float> a = numbers(4 * 3, 1), b = numbers(3 * 5, 2);
  std::vector<float> out(4 * 5, std::nanf(""));
  small_gemm(false, false, 4, 5, 3, 1.0f, a.data(), 3, b.data(), 5, 0.0f, out.data(), 5);
  for (float v : out) CHECK(std::isfinite(v));
}

TEST_CASE("batched matmul of attention-sized products agrees with one large OpenBLAS product") {
  // weights [B, 64, 64] x values [B, 64, 16] goes to small_gemm, one product per batch item.
  // Each item is checked against the same product widened with zeros past kSmallGemmLimit (the
  // extra terms add exactly 0), which OpenBLAS computes.
  Generator gen(7);
  const Tensor weights = randn({3, 64, 64}, gen), values = randn({3, 64, 16}, gen);
  REQUIRE(64 * 16 * 64 <= kSmallGemmLimit);
  const Tensor batched = matmul(weights, values);
  for (int64_t item = 0; item < 3; ++item) {
    const Tensor wide_w = concat({select(weights, 0, item), zeros({64, 256})}, 1);  // [64, 320]
    const Tensor wide_v = concat({select(values, 0, item), zeros({256, 16})}, 0);   // [320, 16]
    REQUIRE(64 * 16 * 320 > kSmallGemmLimit);
    const Tensor reference = matmul(wide_w, wide_v);
    testing::check_close(select(batched, 0, item).to_vector<float>(), reference.to_vector<float>(),
                         1e-5f);
  }
}

}  // namespace
}  // namespace tg
