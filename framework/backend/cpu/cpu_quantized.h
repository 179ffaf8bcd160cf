// Int8 inference on the CPU: the linear product on an int8 weight (framework/ops/quantized.h),
// weight-only through OpenBLAS or dynamic through the int8 kernels of int8_gemm.h.
//
// Int8 kernels exist for the CPU only, so linear_int8 calls this after checking the device,
// instead of widening the Backend interface that every device implements.
#pragma once

#include "framework/tensor.h"

namespace tg {

// y [m, n] = x [m, k] W^T + bias, W as int8 values packed four to an int32 element, values
// [n, int8_row_stride(k) / 4], and one scale per row, scale [n]; bias [n] or undefined.
// dynamic: x's rows are quantized too and the product runs in int8. All on the CPU, checked.
Tensor cpu_linear_int8(const Tensor& x, const Tensor& values, const Tensor& scale,
                       const Tensor& bias, bool dynamic);

}  // namespace tg
