// Every CUDA runtime and cuBLAS call goes through one of these checks, so a failure surfaces as a
// tg::Error naming the call and the reason ("cudaMalloc(1048576 bytes): out of memory") instead
// of a silently wrong result several kernels later.
//
// Kernel launches return nothing: check_launch asks the runtime right after the launch, which
// catches bad launch configurations. Faults inside a kernel show up at the next synchronising
// call (copy_to_host), which is checked too.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "framework/error.h"

namespace tg::cuda {

// `what...` describes the call; it is only formatted when the call failed.
template <class... What>
void check_cuda(cudaError_t status, const What&... what) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // clears a non-sticky error so later calls are not blamed for this one
  fail(what..., ": ", cudaGetErrorString(status));
}

template <class... What>
void check_cublas(cublasStatus_t status, const What&... what) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  fail(what..., ": ", cublasGetStatusString(status));
}

inline void check_launch(const char* kernel) {
  check_cuda(cudaGetLastError(), "launching CUDA kernel ", kernel);
}

}  // namespace tg::cuda
