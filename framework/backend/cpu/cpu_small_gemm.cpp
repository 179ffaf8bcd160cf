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

// ---- products with one row or one column of C: matrix times vector ----
// Attention over an LSTM's states multiplies, per batch item, memory [S, 2H] by h [2H, 1] for
// the scores and weights [1, S] by memory for the context, and their gradients likewise: C has
// one column or one row. A tile of 16 columns would compute 15 padded zeros for each real sum
// (and pack a B of one column into 16), so these run as one of two loops that read the matrix M
// once along its rows, x being the vector:
//   dot form:  y_i = sum_p M[i, p] x_p        (each output a dot product of a row of M with x)
//   row form:  y_j = sum_p x_p M[p, j]        (the output a combination of the rows of M)

// The dot form, one output per row of M: four vectors of partial sums in flight, then one.
TG_VECTOR_KERNEL void dot_rows(const float* m, int64_t ldm, int64_t rows, int64_t k, const float* x,
                               float* sums) {
  for (int64_t i = 0; i < rows; ++i) {
    const float* row = m + i * ldm;
    Vec8 acc[4] = {};
    int64_t p = 0;
    for (; p + 32 <= k; p += 32)
      for (int64_t v = 0; v < 4; ++v) acc[v] += vectors_at(row + p)[v] * vectors_at(x + p)[v];
    for (; p + 8 <= k; p += 8) acc[0] += vectors_at(row + p)[0] * vectors_at(x + p)[0];
    const Vec8 total = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    float sum = 0.0f;
    for (int64_t lane = 0; lane < 8; ++lane) sum += total[lane];
    for (; p < k; ++p) sum += row[p] * x[p];
    sums[i] = sum;
  }
}

// The row form: sums = x_0 M[0, :] + x_1 M[1, :] + ..., a loop the compiler vectorises.
TG_VECTOR_KERNEL void combine_rows(const float* m, int64_t ldm, int64_t k, int64_t width,
                                   const float* x, float* sums) {
  std::fill(sums, sums + width, 0.0f);
  for (int64_t p = 0; p < k; ++p) {
    const float* row = m + p * ldm;
    const float x_p = x[p];
    for (int64_t j = 0; j < width; ++j) sums[j] += x_p * row[j];
  }
}

// C's one row or column from its sums: y = alpha sums + beta y, y_i at y[i * step]; C is not
// read when beta is 0.
void write_vector(const float* sums, int64_t count, float alpha, float beta, float* y,
                  int64_t step) {
  for (int64_t i = 0; i < count; ++i)
    y[i * step] = beta == 0.0f ? alpha * sums[i] : alpha * sums[i] + beta * y[i * step];
}

// C [m, n] with m == 1 or n == 1. x is op(B)'s column (n == 1) or op(A)'s row (m == 1), copied
// to consecutive floats where it lies strided; M is then A (n == 1) or B (m == 1) as stored, its
// rows the dot form's or the row form's according to the transpose flag.
void matrix_vector(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                   const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                   int64_t ldc) {
  const bool one_column = n == 1;
  const float* vector = one_column ? b : a;
  const int64_t vector_step = one_column ? (trans_b ? 1 : ldb) : (trans_a ? lda : 1);
  const float* matrix = one_column ? a : b;
  const int64_t ldm = one_column ? lda : ldb;
  const bool dot_form = one_column ? !trans_a : trans_b;
  const int64_t count = one_column ? m : n;
  thread_local std::vector<float> gathered, sums;
  const float* x = vector;  // read in place where its elements are consecutive
  if (vector_step != 1) {
    gathered.resize(static_cast<size_t>(k));
    for (int64_t p = 0; p < k; ++p) gathered[p] = vector[p * vector_step];
    x = gathered.data();
  }
  sums.resize(static_cast<size_t>(count));
  if (dot_form)
    dot_rows(matrix, ldm, count, k, x, sums.data());
  else
    combine_rows(matrix, ldm, k, count, x, sums.data());
  write_vector(sums.data(), count, alpha, beta, c, one_column ? ldc : 1);
}

}  // namespace

void small_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                int64_t ldc) {
  if (m == 1 || n == 1)
    return matrix_vector(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
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
