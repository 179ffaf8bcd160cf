// The part of the CUDA runtime tapegrad's CUDA backend uses, emulated on the CPU (see
// ../emulator.h). Compiled only into the emulator test build; a real build includes the
// toolkit's cuda_runtime.h instead. Names, types and error codes follow the CUDA Runtime API
// reference, so the backend's .cu files compile against this header unchanged.
#pragma once

#include <math.h>  // the device math functions (expf, logf, tanhf, erff...) are the C ones

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../emulator.h"

// ---- execution space and memory space qualifiers ----
#define __global__
#define __device__
#define __host__
// One block runs at a time, so a function-local static is exactly one block's shared memory.
#define __shared__ static

// ---- built-in variables (1-D grids; set by cuda_emulator::run_grid) ----
struct uint3 {
  unsigned x = 0, y = 0, z = 0;
};
struct dim3 {
  unsigned x = 1, y = 1, z = 1;
};
inline uint3 threadIdx;
inline uint3 blockIdx;
inline dim3 blockDim;
inline dim3 gridDim;

// ---- device functions ----
inline void __syncthreads() { cuda_emulator::sync_block(); }

// The shuffles move any value of up to 8 bytes as its bits.
namespace cuda_emulator {
template <class T>
T shuffle_bits(T value, uint64_t (*shuffle)(unsigned, uint64_t, unsigned), unsigned mask,
               unsigned argument) {
  static_assert(sizeof(T) <= sizeof(uint64_t) && std::is_trivially_copyable_v<T>);
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  bits = shuffle(mask, bits, argument);
  std::memcpy(&value, &bits, sizeof(T));
  return value;
}
}  // namespace cuda_emulator
template <class T>
T __shfl_down_sync(unsigned mask, T value, unsigned delta) {
  return cuda_emulator::shuffle_bits(value, cuda_emulator::shuffle_down, mask, delta);
}
template <class T>
T __shfl_xor_sync(unsigned mask, T value, unsigned lane_mask) {
  return cuda_emulator::shuffle_bits(value, cuda_emulator::shuffle_xor, mask, lane_mask);
}

// Fibers never run at the same time, so a read-modify-write is already atomic.
template <class T>
T atomicAdd(T* address, T value) {
  cuda_emulator::check_device_address(address, sizeof(T), "atomicAdd");
  const T old = *address;
  *address = old + value;
  return old;
}

template <class T>
T atomicMin(T* address, T value) {
  cuda_emulator::check_device_address(address, sizeof(T), "atomicMin");
  const T old = *address;
  if (value < old) *address = value;
  return old;
}

// CUDA's integer and float min/max overloads (same-typed arguments here).
template <class T>
constexpr T min(T a, T b) {
  return b < a ? b : a;
}
template <class T>
constexpr T max(T a, T b) {
  return a < b ? b : a;
}

// Round-to-nearest multiply and add that the compiler may not fuse: the host compiler does not
// contract a * b + c here (ISO C++ mode, -ffp-contract=off), so plain operators are exact.
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fadd_rn(float a, float b) { return a + b; }

// ---- errors ----
enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorCudartUnloading = 4,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidPitchValue = 12,
  cudaErrorInvalidDevicePointer = 17,
  cudaErrorIllegalAddress = 700,
  cudaErrorLaunchFailure = 719,
};
cudaError_t cudaGetLastError();
const char* cudaGetErrorString(cudaError_t error);

// ---- devices ----
struct cudaDeviceProp {
  char name[256];
};
cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* properties, int device);
cudaError_t cudaDeviceSynchronize();

// ---- memory ----
enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
};
struct CUstream_st;
using cudaStream_t = CUstream_st*;
#define cudaStreamLegacy (reinterpret_cast<cudaStream_t>(0x1))

cudaError_t cudaMalloc(void** pointer, size_t bytes);
cudaError_t cudaFree(void* pointer);
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream = nullptr);
// `height` rows of `width` bytes, read `spitch` bytes apart and written `dpitch` apart.
cudaError_t cudaMemcpy2DAsync(void* dst, size_t dpitch, const void* src, size_t spitch,
                              size_t width, size_t height, cudaMemcpyKind kind,
                              cudaStream_t stream = nullptr);
