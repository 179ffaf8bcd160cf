// Int8 post-training quantization: a float weight matrix as int8 values and one scale per row,
// and the linear product on it, for inference.
//
// Per output channel, symmetric: row n of W [out, in] (output feature n) gets its own scale
//
//   scale_n = max_k |W[n, k]| / 127,   q[n, k] = clamp(round(W[n, k] / scale_n), -127, 127),
//
// so W[n, k] ~ q[n, k] scale_n with |W - q scale_n| <= scale_n / 2 (round to nearest). One scale
// per row, not one per matrix, because rows differ in size by 10x and more: a shared scale would
// leave the small rows a few levels. Symmetric (no zero point) because weights center on zero, and
// -128 is left out so that q and -q both fit (the AVX2 kernel relies on it, int8_gemm.cpp).
//
// Storage: int8 values travel in an int32 tensor, four to an element (little-endian bytes, in
// order), each row padded with zeros to int8_row_stride(in) bytes, the layout the int8 kernels
// read. So the engine needs no int8 dtype, the checkpoint format stores them as it stores any
// int32 tensor, and a quantized weight takes a quarter of its float bytes (plus padding: 784
// inputs are stored as 832).
#pragma once

#include <cstdint>

#include "framework/tensor.h"

namespace tg {

struct Int8Matrix {
  Tensor values;  // int32 [rows, int8_row_stride(cols) / 4]: the int8 values, packed
  Tensor scale;   // float32 [rows]
  int64_t rows = 0, cols = 0;
};

// W [rows, cols] float32 -> its int8 form, on W's device (computed on the host). Not recorded.
Int8Matrix quantize_per_row(const Tensor& weight);
// q scale_n back as float32 [rows, cols]: what the int8 form stands for.
Tensor dequantize(const Int8Matrix& weight);
// The int8 value of row, col (for tests and tools; reads the host copy).
int8_t int8_at(const Int8Matrix& weight, int64_t row, int64_t col);

// How a quantized linear product treats its input:
//   Float:   weight-only. W is dequantized into a float matrix and the product runs as sgemm
//            (x stays float; the saving is memory and file size, not arithmetic).
//   Dynamic: each row of x is quantized on the fly, symmetric, with its own scale
//            s_m = max_k |x[m, k]| / 127, then y[m, n] = s_m scale_n sum_k qx[m, k] q[n, k] + b[n],
//            the sum in int32 by the int8 kernels (framework/backend/cpu/int8_gemm.h).
enum class Int8Activations { Float, Dynamic };
const char* to_string(Int8Activations mode);

// y = x W^T + bias with W in int8 form: x [..., cols] -> [..., rows]. CPU only. Inference only:
// it records on the tape (so that a forgotten NoGradGuard is caught) with a backward that throws.
Tensor linear_int8(const Tensor& x, const Int8Matrix& weight, const Tensor& bias,
                   Int8Activations mode);

}  // namespace tg
