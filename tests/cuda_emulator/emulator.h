// A CPU stand-in for the CUDA runtime and cuBLAS, so that the CUDA backend's own kernels
// (framework/backend/cuda/*.cu, unchanged) run, and are tested, on a machine without a GPU.
//
// How: the .cu files are compiled by the host C++ compiler with include/cuda_runtime.h and
// include/cublas_v2.h from this folder in place of the toolkit's, and cuda::launch hands each
// kernel to cuda_emulator::launch instead of the <<<blocks, threads>>> syntax. The emulator then
// runs the grid the way the GPU defines it:
//   - blocks one after another. Where a block's threads work together (launch_rows), each
//     thread is a fiber (its own stack) on one OS thread, switched only where CUDA threads
//     synchronise: __syncthreads and warp shuffles. So shared memory, barriers and block
//     reductions behave as specified. Threads that work alone (launch) are plain calls.
//   - device memory is host memory between guard bytes, filled with 0xFF (NaN as float) when
//     allocated, as cudaMalloc's memory is garbage; cublasSgemmStridedBatched is cblas_sgemm.
//
// What it checks, each failure turned into a CUDA error that check_launch reports as tg::Error:
//   - a kernel argument that is a host pointer (on a GPU: an illegal address, later);
//   - a write past either end of a cudaMalloc buffer (guard bytes checked after every kernel);
//   - cudaMemcpy with a direction that does not match its pointers;
//   - a barrier some threads of the block never reach (on a GPU: a hang or undefined behaviour),
//     and a barrier in a kernel launched one thread per element;
//   - cuBLAS arguments cuBLAS itself rejects (leading dimensions) and matrices that overrun
//     their buffers.
//
// What it cannot show: speed; races between threads of a block (fibers run one at a time, so two
// threads writing one address without a barrier between them give a fixed answer here); the last
// bits of the device's expf/logf; anything about streams, which run in order here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>

namespace cuda_emulator {

// Runs `thread_body` once for every thread of a blocks x threads grid (1-D, as tapegrad's
// kernels are), setting blockIdx, threadIdx, blockDim and gridDim around each call. Threads that
// work `together` run as fibers; otherwise each is a plain call, and a barrier is an error.
void run_grid(const char* kernel, unsigned blocks, unsigned threads, bool together,
              const std::function<void()>& thread_body);

// Whether an argument may be passed to a kernel: a pointer must be null or device memory.
bool check_kernel_argument(const char* kernel, int position, const void* pointer);

template <class T>
bool check_argument(const char* kernel, int position, const T& value) {
  if constexpr (std::is_pointer_v<T>) return check_kernel_argument(kernel, position, value);
  return true;
}

// kernel<<<blocks, threads>>>(args...) on the CPU. The arguments convert to the kernel's
// parameter types at the call, as with a real launch, and the kernel gets its own copies.
template <class... Params>
void launch(const char* kernel_name, unsigned blocks, unsigned threads, bool together,
            void (*kernel)(Params...), std::type_identity_t<Params>... args) {
  int position = 0;
  bool arguments_valid = true;  // every argument checked, left to right, so all are reported
  ((arguments_valid = check_argument(kernel_name, position++, args) && arguments_valid), ...);
  if (arguments_valid) run_grid(kernel_name, blocks, threads, together, [&] { kernel(args...); });
}

// How many grids of this kernel name have run since the program began:
// the tests learn from it which of a kernel's variants (a warp or a block per row) ran.
size_t launches(const std::string& kernel);

// Makes cudaMalloc fail once this many bytes are in use (SIZE_MAX: never), as a full GPU does.
void set_memory_limit(size_t bytes);

// ---- what the device built-ins call ----

void sync_block();                                                               // __syncthreads
uint64_t shuffle_down(unsigned mask, uint64_t bits, unsigned delta);             // __shfl_down_sync
uint64_t shuffle_xor(unsigned mask, uint64_t bits, unsigned lane_mask);          // __shfl_xor_sync
void check_device_address(const void* pointer, size_t bytes, const char* what);  // atomics

}  // namespace cuda_emulator
