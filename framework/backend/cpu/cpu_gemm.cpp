// Matrix products: OpenBLAS's cblas_sgemm, with the transpose flags passed straight on, and for
// small products our own small_gemm (cpu_small_gemm.h says which, and why: OpenBLAS's set-up
// per call costs as much as such a product's arithmetic).
#include <cblas.h>

#include "framework/backend/cpu/cpu_backend.h"
#include "framework/backend/cpu/cpu_small_gemm.h"

namespace tg {

constexpr int64_t kSmallProduct = 128 * 128 * 128;  // multiply-adds

void single_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                 const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                 int64_t ldc) {
  if (m * n * k <= kSmallGemmLimit) {
    small_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}

void CpuBackend::gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                      const Tensor& a, int64_t stride_a, const Tensor& b, int64_t stride_b,
                      float beta, const Tensor& c, int64_t stride_c, int64_t batch) {
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  float* pc = c.data<float>();
  // Row-major leading dimensions: the stored width of each matrix.
  const int64_t lda = trans_a ? m : k, ldb = trans_b ? k : n, ldc = n;
  const auto product = [&](int64_t i) {
    single_gemm(trans_a, trans_b, m, n, k, alpha, pa + i * stride_a, lda, pb + i * stride_b, ldb,
                beta, pc + i * stride_c, ldc);
  };
  // A batch of small products (attention's scores and weighted values: batch x heads products
  // of, e.g., 64 x 64 x 16) is split over the threads, one whole product per thread at a time:
  // OpenBLAS runs a product this small on one thread anyway, and inside a parallel region the
  // OpenMP build of OpenBLAS stays on the calling thread. Large products keep OpenBLAS's own
  // threading.
  if (batch > 1 && m * n * k <= kSmallProduct) {
#pragma omp parallel for
    for (int64_t i = 0; i < batch; ++i) product(i);
  } else {
    for (int64_t i = 0; i < batch; ++i) product(i);
  }
}

}  // namespace tg
