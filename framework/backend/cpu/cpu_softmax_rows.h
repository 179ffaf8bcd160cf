// One row of softmax and of its backward, for the kernels that work row by row: the softmax op
// (cpu_nn.cpp, where they are defined and their math is written out) and fused attention
// (cpu_attention.cpp). Vector kernels (cpu_vector.h): the widest copy the CPU runs is chosen
// when the library loads.
#pragma once

#include <cstdint>

#include "framework/backend/cpu/cpu_vector.h"

namespace tg {

// y = softmax (or log-softmax) of the n elements x[0], x[stride], ... over the kept ones (keep
// read at the same offsets; nullptr keeps all). Masked entries and rows with nothing kept give 0.
TG_VECTOR_KERNEL void softmax_row(const float* x, float* y, const int32_t* keep, int64_t n,
                                  int64_t stride, bool log);

// gx from the forward's y and the output gradient gy, same layout.
TG_VECTOR_KERNEL void softmax_backward_row(const float* y, const float* gy, float* gx,
                                           const int32_t* keep, int64_t n, int64_t stride,
                                           bool log);

}  // namespace tg
