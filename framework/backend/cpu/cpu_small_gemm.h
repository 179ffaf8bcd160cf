// A matrix product for the small matrices of attention, written out instead of called.
//
// Multi-head attention multiplies batch x heads pairs of small matrices per step (64 x 16 by
// 16 x 64 for the scores, 64 x 64 by 64 x 16 for the weighted values, and four more in the
// backward). OpenBLAS is built for large products: each call packs both operands into its own
// layout, zeroes or scales C in a separate pass and sizes its blocks for caches these matrices
// never fill; on products this small that set-up costs as much as the arithmetic (in the MHA
// step's profile the packing and scaling routines took 40% of the time of sgemm's kernel).
//
// small_gemm computes the same C = alpha op(A) op(B) + beta C (row-major, op = optional
// transpose) in one pass:
//   1. op(B) is copied once into a row-major [k, n] buffer (a transpose when trans_b), its
//      columns padded with zeros to a multiple of kTileColumns, so every tile reads whole vectors
//      (a B that has such rows already, not transposed and n a multiple of kTileColumns, is read
//      where it lies);
//   2. C is computed tile by tile, kTileRows rows x kTileColumns columns at a time: the tile's
//      sums stay in registers for the whole loop over k,
//          acc[r][c] += op(A)[i + r, p] * Bp[p, j + c]        p = 0 .. k-1,
//      each step one broadcast element of A times one row segment of Bp (the compiler turns the
//      loop over c into vector multiply-adds); the tile is written to C once, scaled by alpha,
//      with beta C added.
// Rows left over at the bottom (m not a multiple of kTileRows, 6) run tiles of 4, 2 and 1 rows.
// A C of one row or one column (attention over an LSTM's states: memory times h) is a matrix
// times a vector and skips the tiles: one dot product per row of the matrix, or a sum of its
// rows (cpu_small_gemm.cpp, "matrix times vector").
#pragma once

#include <cstdint>

namespace tg {

// Which products small_gemm takes: those of at most kSmallGemmLimit multiply-adds (64 x 64 x 64).
// bench_core's table (d) measures both libraries on attention's shapes (2026-12-02, 1 thread,
// AMD EPYC, tiles of 6 rows): small_gemm took 0.52-0.77 of OpenBLAS's time for heads of 16
// and 8 (k = 16 and 8 for the scores q k^T and their gradient, k = 64 for the rest), 0.43 to
// 1.01 on the G2P Transformer's 10 x 10 x 32 shapes. (Until then a tile zeroed its sums
// in memory, `rep stos` in perf, which cost k = 16 products twice OpenBLAS's time, so they
// went to OpenBLAS.)
constexpr int64_t kSmallGemmLimit = 64 * 64 * 64;

// C [m, n] = alpha op(A) op(B) + beta C for one product; lda, ldb, ldc are the stored row
// widths, as in cblas_sgemm with CblasRowMajor. When beta is 0, C is only written (never read).
void small_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                int64_t ldc);

// One product, by small_gemm where the rule above says it is faster, else by OpenBLAS's
// cblas_sgemm: what CpuBackend::gemm runs for each product of a batch, and what fused attention
// (cpu_attention.cpp) calls on matrices that sit inside larger ones (lda, ldb, ldc).
void single_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                 const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                 int64_t ldc);

}  // namespace tg
