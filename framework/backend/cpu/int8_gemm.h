// The int8 matrix product of quantized inference: C = A B^T with int8 A [M, K], B [N, K] and
// int32 C [M, N],
//
//   C[m, n] = sum_k A[m, k] * B[n, k],   every value of A and B in [-127, 127].
//
// Both operands are read along k (the layout of a Linear weight [out, in] and of activation rows),
// each row padded with zeros to int8_row_stride(K) bytes (framework/backend/quantized_kernels.h).
//
// Three kernels compute the same integers (exactly: int32 cannot overflow, |C| <= K * 127^2, so
// K < 133,000): a scalar reference, an AVX2 kernel and an AVX-512 VNNI kernel. The build targets
// plain x86-64, so the vector kernels are compiled for their instruction sets alone (GCC's target
// attribute, as TG_VECTOR_KERNEL's target_clones do for whole loops) and chosen at run time from
// what the CPU reports (best_int8_kernel). How each avoids int16 saturation is in int8_gemm.cpp.
#pragma once

#include <cstdint>

#include "framework/backend/quantized_kernels.h"

namespace tg {

enum class Int8Kernel { Scalar, Avx2, Avx512Vnni };
const char* to_string(Int8Kernel kernel);
bool cpu_runs(Int8Kernel kernel);  // whether this CPU has the instructions
Int8Kernel best_int8_kernel();     // the fastest kernel this CPU runs

// C = A B^T as above: a [m, stride], b [n, stride], c [m, n] row-major, stride = int8_row_stride(k)
// with zero padding. Splits the columns of C over the threads when the product is large.
void int8_gemm_nt(Int8Kernel kernel, int64_t m, int64_t n, int64_t stride, const int8_t* a,
                  const int8_t* b, int32_t* c);
inline void int8_gemm_nt(int64_t m, int64_t n, int64_t stride, const int8_t* a, const int8_t* b,
                         int32_t* c) {
  int8_gemm_nt(best_int8_kernel(), m, n, stride, a, b, c);
}

}  // namespace tg
