// The small matrix product: see cpu_small_gemm.h for the method.
#include "framework/backend/cpu/cpu_small_gemm.h"

#include <algorithm>
#include <vector>

#include "framework/backend/cpu/cpu_vector.h"

namespace tg {
namespace {

// Eight floats that + and * treat element by element (GCC's and clang's vector extension): one
// AVX register, or two SSE registers on a CPU without AVX. Written out because GCC, left to
// vectorise the plain loops over a tile, shuffled the sums through memory (7x slower than
// OpenBLAS, measured with bench_core's table (d)).
typedef float Vec8 __attribute__((vector_size(32)));
// The same at any float's address: reading or writing one is an unaligned vector load or store.
// (GCC lets a vector of floats alias floats.)
typedef float UnalignedVec8 __attribute__((vector_size(32), aligned(4)));

const UnalignedVec8* vectors_at(const float* p) {
  return reinterpret_cast<const UnalignedVec8*>(p);
}
UnalignedVec8* vectors_at(float* p) { return reinterpret_cast<UnalignedVec8*>(p); }

// A tile of 6 rows x 16 columns keeps 12 vectors of sums, plus 2 of B's row and A's broadcast
// value: 15 of AVX2's 16 registers; each step over p then does 12 multiply-adds for 8 loads.
constexpr int64_t kTileRows = 6;
constexpr int64_t kTileVectors = 2;
constexpr int64_t kTileColumns = kTileVectors * 8;

// op(A) as the kernel reads it: element [i, p] lies at i * row_step + p * column_step.
struct MatrixView {
  const float* data;
  int64_t row_step, column_step;
  float at(int64_t i, int64_t p) const { return data[i * row_step + p * column_step]; }
};

// One tile of C: Rows rows from row i, kTileColumns columns from column j, of which the first
// `columns` are real (the rest fall in Bp's zero padding and are not written). Row p of Bp
// starts at bp + p * b_step. The Rows x kTileVectors sums are registers for the whole loop over p.
template <int64_t Rows>
[[gnu::always_inline]] inline void tile(const MatrixView& a, int64_t i, const float* bp,
                                        int64_t b_step, int64_t j, int64_t columns, int64_t k,
                                        float alpha, float beta, float* c, int64_t ldc) {
  Vec8 acc[Rows][kTileVectors];
  for (int64_t r = 0; r < Rows; ++r)
    for (int64_t v = 0; v < kTileVectors; ++v) acc[r][v] = Vec8{};
  for (int64_t p = 0; p < k; ++p) {
    const float* b_row = bp + p * b_step + j;
    Vec8 b[kTileVectors];
    for (int64_t v = 0; v < kTileVectors; ++v) b[v] = vectors_at(b_row)[v];
    for (int64_t r = 0; r < Rows; ++r) {
      const float a_ip = a.at(i + r, p);
      for (int64_t v = 0; v < kTileVectors; ++v) acc[r][v] += a_ip * b[v];
    }
  }
  for (int64_t r = 0; r < Rows; ++r) {
    float* c_row = c + (i + r) * ldc + j;
    if (columns == kTileColumns) {  // a whole tile: vector stores
      for (int64_t v = 0; v < kTileVectors; ++v)
        vectors_at(c_row)[v] =
            beta == 0.0f ? alpha * acc[r][v] : alpha * acc[r][v] + beta * vectors_at(c_row)[v];
    } else {  // the last columns of C, one at a time, from a copy of the row's sums (indexing
              // acc itself by column would keep the sums in memory instead of registers: perf
              // showed each tile zeroing them there with `rep stos`)
      float sums[kTileColumns];
      for (int64_t v = 0; v < kTileVectors; ++v) vectors_at(sums + 8 * v)[0] = acc[r][v];
      for (int64_t col = 0; col < columns; ++col)
        c_row[col] = beta == 0.0f ? alpha * sums[col] : alpha * sums[col] + beta * c_row[col];
    }
  }
}

TG_VECTOR_KERNEL void multiply_tiles(const MatrixView& a, const float* bp, int64_t m, int64_t n,
                                     int64_t b_step, int64_t k, float alpha, float beta, float* c,
                                     int64_t ldc) {
  for (int64_t j = 0; j < n; j += kTileColumns) {
    const int64_t columns = std::min(kTileColumns, n - j);
    int64_t i = 0;
    for (; i + kTileRows <= m; i += kTileRows)
      tile<kTileRows>(a, i, bp, b_step, j, columns, k, alpha, beta, c, ldc);
    // The last 0-5 rows in tiles of 4, 2 and 1 rows (at most one of each).
    if (i + 4 <= m) {
      tile<4>(a, i, bp, b_step, j, columns, k, alpha, beta, c, ldc);
      i += 4;
    }
    if (i + 2 <= m) {
      tile<2>(a, i, bp, b_step, j, columns, k, alpha, beta, c, ldc);
      i += 2;
    }
    if (i < m) tile<1>(a, i, bp, b_step, j, columns, k, alpha, beta, c, ldc);
  }
}

}  // namespace

void small_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                int64_t ldc) {
  const MatrixView view{a, trans_a ? 1 : lda, trans_a ? lda : 1};
  // 1. Bp = op(B) with rows of a multiple of kTileColumns. B itself when it is that already (not
  //    transposed, n a multiple of kTileColumns: attention's heads of 16 or 32 columns read in
  //    place, rows ldb apart). Otherwise a copy, zero beyond column n, in a buffer per thread
  //    kept between calls (attention calls this batch x heads times per product).
  if (!trans_b && n % kTileColumns == 0)
    return multiply_tiles(view, b, m, n, ldb, k, alpha, beta, c, ldc);
  const int64_t b_step = (n + kTileColumns - 1) / kTileColumns * kTileColumns;
  thread_local std::vector<float> packed;
  packed.resize(static_cast<size_t>(k * b_step));
  float* bp = packed.data();
  if (trans_b) {  // B is [n, k]: read its rows, write Bp's columns
    for (int64_t p = 0; p < k; ++p)
      for (int64_t j = 0; j < n; ++j) bp[p * b_step + j] = b[j * ldb + p];
  } else {
    for (int64_t p = 0; p < k; ++p) std::copy(b + p * ldb, b + p * ldb + n, bp + p * b_step);
  }
  for (int64_t p = 0; p < k; ++p) std::fill(bp + p * b_step + n, bp + (p + 1) * b_step, 0.0f);
  // 2. The tiles. op(A)[i, p] is A[i, p] or, transposed, A[p, i].
  multiply_tiles(view, bp, m, n, b_step, k, alpha, beta, c, ldc);
}

}  // namespace tg
