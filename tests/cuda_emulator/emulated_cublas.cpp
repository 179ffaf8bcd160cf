// cuBLAS's strided batched sgemm emulated with cblas_sgemm (see emulator.h). Both are
// column-major with the same argument conventions, so each batch is one cblas call. The checks
// are cuBLAS's own (a leading dimension shorter than a column is CUBLAS_STATUS_INVALID_VALUE),
// plus one a GPU would report only as an illegal address: every matrix of every batch must lie
// inside its device buffer.
#include <cblas.h>

#include <algorithm>
#include <string>

#include "emulator_state.h"
#include "include/cublas_v2.h"

struct cublasContext {
  cublasMath_t math_mode = CUBLAS_DEFAULT_MATH;
};

namespace cuda_emulator {
namespace {

// Why the last call failed, for cublasGetStatusString (cuBLAS's own strings say less).
std::string& status_detail() {
  static std::string detail;
  return detail;
}

cublasStatus_t fail(cublasStatus_t status, const std::string& detail) {
  status_detail() = "emulator: " + detail;
  return status;
}

// A column-major rows x cols matrix with leading dimension ld, batch i at first + i * stride:
// whether every batch lies inside one device buffer.
bool matrices_on_device(const float* first, int rows, int cols, int ld, long long stride,
                        int batches) {
  if (rows == 0 || cols == 0) return true;
  const size_t bytes = (static_cast<size_t>(cols - 1) * ld + rows) * sizeof(float);
  for (int i = 0; i < batches; ++i)
    if (!is_device_range(first + i * stride, bytes)) return false;
  return true;
}

CBLAS_TRANSPOSE to_cblas(cublasOperation_t op) {
  return op == CUBLAS_OP_N ? CblasNoTrans : CblasTrans;
}

}  // namespace
}  // namespace cuda_emulator

using namespace cuda_emulator;

cublasStatus_t cublasCreate(cublasHandle_t* handle) {
  *handle = new cublasContext();
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t handle) {
  if (handle == nullptr) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "no handle");
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
  if (handle == nullptr) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "no handle");
  handle->math_mode = mode;
  return CUBLAS_STATUS_SUCCESS;
}

const char* cublasGetStatusString(cublasStatus_t status) {
  if (!status_detail().empty()) return status_detail().c_str();
  switch (status) {
    case CUBLAS_STATUS_SUCCESS:
      return "the operation completed successfully";
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return "the library was not initialized";
    case CUBLAS_STATUS_INVALID_VALUE:
      return "an invalid numeric value was used as an argument";
    case CUBLAS_STATUS_EXECUTION_FAILED:
      return "the GPU program failed to execute";
  }
  return "unknown error";
}

cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, cublasOperation_t transa,
                                         cublasOperation_t transb, int m, int n, int k,
                                         const float* alpha, const float* A, int lda,
                                         long long strideA, const float* B, int ldb,
                                         long long strideB, const float* beta, float* C, int ldc,
                                         long long strideC, int batchCount) {
  status_detail().clear();
  if (handle == nullptr) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "no handle");
  // op(A) is m x k: A itself is m x k (N) or k x m (T); likewise op(B) k x n.
  const int rows_a = transa == CUBLAS_OP_N ? m : k, cols_a = transa == CUBLAS_OP_N ? k : m;
  const int rows_b = transb == CUBLAS_OP_N ? k : n, cols_b = transb == CUBLAS_OP_N ? n : k;
  if (m < 0 || n < 0 || k < 0 || batchCount < 0)
    return fail(CUBLAS_STATUS_INVALID_VALUE, "a negative size");
  if (lda < std::max(1, rows_a) || ldb < std::max(1, rows_b) || ldc < std::max(1, m))
    return fail(CUBLAS_STATUS_INVALID_VALUE,
                "lda " + std::to_string(lda) + ", ldb " + std::to_string(ldb) + ", ldc " +
                    std::to_string(ldc) + " for A " + std::to_string(rows_a) + " x " +
                    std::to_string(cols_a) + ", B " + std::to_string(rows_b) + " x " +
                    std::to_string(cols_b) + ", C " + std::to_string(m) + " x " +
                    std::to_string(n) + " (column-major)");
  if (m == 0 || n == 0 || batchCount == 0) return CUBLAS_STATUS_SUCCESS;
  if (!matrices_on_device(A, rows_a, cols_a, lda, strideA, batchCount) ||
      !matrices_on_device(B, rows_b, cols_b, ldb, strideB, batchCount) ||
      !matrices_on_device(C, m, n, ldc, strideC, batchCount))
    return fail(CUBLAS_STATUS_EXECUTION_FAILED,
                "a matrix of the batch lies outside its device buffer");
  for (int i = 0; i < batchCount; ++i) {
    float* c = C + i * strideC;
    if (k == 0) {  // C = beta C; with beta == 0, C is not read
      for (int col = 0; col < n; ++col)
        for (int row = 0; row < m; ++row) {
          float& value = c[static_cast<size_t>(col) * ldc + row];
          value = *beta == 0.0f ? 0.0f : *beta * value;
        }
      continue;
    }
    cblas_sgemm(CblasColMajor, to_cblas(transa), to_cblas(transb), m, n, k, *alpha, A + i * strideA,
                lda, B + i * strideB, ldb, *beta, c, ldc);
  }
  check_guards("cublasSgemmStridedBatched");
  return CUBLAS_STATUS_SUCCESS;
}
