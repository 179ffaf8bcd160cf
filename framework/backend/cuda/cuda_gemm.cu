// Matrix products through cuBLAS, which is column-major while tapegrad is row-major.
//
// A row-major m x n matrix has the same bytes as a column-major n x m matrix: its transpose.
// So instead of C = op(A) op(B) we ask cuBLAS for C^T = op(B)^T op(A)^T, passing B before A
// with the same transpose flags and leading dimensions; the result lands row-major in C with no
// copy. One strided-batched call covers the whole batch (a stride of 0 broadcasts a matrix).
#include <algorithm>
#include <cstdint>

#include "framework/backend/cuda/cuda_backend.h"
#include "framework/backend/cuda/cuda_kernels.cuh"

namespace tg {
namespace {

cublasHandle_t cublas_handle() {
  // One handle for the process, never destroyed (destruction order at exit is not ours to
  // control). It runs on the legacy default stream, like every kernel here.
  static cublasHandle_t handle = [] {
    cublasHandle_t h = nullptr;
    cuda::check_cublas(cublasCreate(&h), "cublasCreate");
    // Plain float32 arithmetic: no TF32 tensor-core shortcut, whose 10-bit mantissa would make
    // GPU results differ from the CPU's by about 1e-3.
    cuda::check_cublas(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
    return h;
  }();
  return handle;
}

int checked_int(int64_t value, const char* what) {
  check(value >= 0 && value <= INT32_MAX, "gemm: ", what, " = ", value,
        " does not fit cuBLAS's 32-bit int");
  return static_cast<int>(value);
}

}  // namespace

void CudaBackend::gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                       const Tensor& a, int64_t stride_a, const Tensor& b, int64_t stride_b,
                       float beta, const Tensor& c, int64_t stride_c, int64_t batch) {
  if (m == 0 || n == 0 || batch == 0) return;
  // Row-major leading dimensions: the stored width of each matrix (cuBLAS wants at least 1,
  // even for the empty inner dimension k == 0, where it just scales C by beta).
  const int lda = checked_int(std::max<int64_t>(1, trans_a ? m : k), "lda");
  const int ldb = checked_int(std::max<int64_t>(1, trans_b ? k : n), "ldb");
  const int ldc = checked_int(n, "ldc");
  cuda::check_cublas(
      cublasSgemmStridedBatched(
          cublas_handle(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
          checked_int(n, "n"), checked_int(m, "m"), checked_int(k, "k"), &alpha,
          b.device_data<float>(), ldb, stride_b, a.device_data<float>(), lda, stride_a, &beta,
          c.device_data<float>(), ldc, stride_c, checked_int(batch, "batch")),
      "cublasSgemmStridedBatched(m=", m, ", n=", n, ", k=", k, ", batch=", batch, ")");
}

}  // namespace tg
