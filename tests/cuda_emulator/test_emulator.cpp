// The CPU emulation of CUDA checks what emulator.h says it checks. These tests launch small
// kernels of their own through the backend's launch helper, so a failure arrives as the backend
// would see it: a tg::Error from check_launch or check_cuda.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "framework/backend/cuda/cuda_kernels.cuh"
#include "framework/backend/cuda_status.h"

namespace tg {
namespace {

// A device buffer of n floats, freed at the end of the test.
struct DeviceFloats {
  float* data = nullptr;
  size_t n = 0;
  explicit DeviceFloats(size_t count) : n(count) {
    void* pointer = nullptr;
    REQUIRE(cudaMalloc(&pointer, n * sizeof(float)) == cudaSuccess);
    data = static_cast<float*>(pointer);
  }
  ~DeviceFloats() { cudaFree(data); }
  std::vector<float> to_host() const {
    std::vector<float> host(n);
    cuda::check_cuda(cudaMemcpy(host.data(), data, n * sizeof(float), cudaMemcpyDeviceToHost),
                     "cudaMemcpy");
    return host;
  }
};

__global__ void write_at(int64_t n, float* out, int64_t position) {
  if (cuda::first_index() == 0 && n > 0) out[position] = 1.0f;
}

// Each thread writes its index into shared memory, then, after the barrier, reads its
// neighbour's: only a real barrier makes every neighbour's value visible.
__global__ void rotate_through_shared(int64_t, float* out) {
  __shared__ float slots[cuda::kThreads];
  slots[threadIdx.x] = static_cast<float>(threadIdx.x);
  __syncthreads();
  out[blockIdx.x * blockDim.x + threadIdx.x] = slots[(threadIdx.x + 1) % blockDim.x];
}

__global__ void shuffle_down_by_3(int64_t, float* out) {
  out[threadIdx.x] = __shfl_down_sync(0xffffffffu, static_cast<float>(threadIdx.x), 3);
}

__global__ void shuffle_xor_by_5(int64_t, float* out) {
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, static_cast<float>(threadIdx.x), 5);
}

// Every lane writes what warp_reduce returned to it: the sum of its warp's thread indices.
__global__ void warp_sums(int64_t, float* out) {
  out[threadIdx.x] = cuda::warp_reduce(static_cast<float>(threadIdx.x), cuda::SumOp{});
}

__global__ void block_sum(int64_t, float* out) {
  const float total = cuda::block_reduce(static_cast<float>(threadIdx.x), cuda::SumOp{});
  if (threadIdx.x == 0) out[blockIdx.x] = total;
}

// Thread 0 leaves before the barrier that the others wait at.
__global__ void early_return(int64_t, float* out) {
  if (threadIdx.x == 0) return;
  __syncthreads();
  out[threadIdx.x] = 1.0f;
}

TEST_CASE("the emulator runs every thread of every block, with block-local shared memory") {
  DeviceFloats out(2 * cuda::kThreads);
  cuda::launch_grid("rotate_through_shared", 2, cuda::BlockThreads::Together, rotate_through_shared,
                    int64_t{0}, out.data);
  const std::vector<float> got = out.to_host();
  for (int block = 0; block < 2; ++block)
    for (int t = 0; t < cuda::kThreads; ++t)
      CHECK(got[block * cuda::kThreads + t] == static_cast<float>((t + 1) % cuda::kThreads));
}

TEST_CASE("warp shuffles read lane + delta, and lanes past the warp keep their own value") {
  DeviceFloats out(cuda::kThreads);
  cuda::launch_grid("shuffle_down_by_3", 1, cuda::BlockThreads::Together, shuffle_down_by_3,
                    int64_t{0}, out.data);
  const std::vector<float> got = out.to_host();
  for (int t = 0; t < cuda::kThreads; ++t) {
    const int lane = t % 32;
    CHECK(got[t] == static_cast<float>(lane + 3 < 32 ? t + 3 : t));
  }
}

TEST_CASE("xor shuffles read lane ^ mask, and warp_reduce gives every lane its warp's sum") {
  DeviceFloats out(cuda::kThreads);
  cuda::launch_grid("shuffle_xor_by_5", 1, cuda::BlockThreads::Together, shuffle_xor_by_5,
                    int64_t{0}, out.data);
  std::vector<float> got = out.to_host();
  for (int t = 0; t < cuda::kThreads; ++t) CHECK(got[t] == static_cast<float>(t ^ 5));
  cuda::launch_grid("warp_sums", 1, cuda::BlockThreads::Together, warp_sums, int64_t{0}, out.data);
  got = out.to_host();
  for (int t = 0; t < cuda::kThreads; ++t) {
    const int first = t / 32 * 32;  // sum of first .. first + 31
    CHECK(got[t] == static_cast<float>(32 * first + 31 * 32 / 2));
  }
}

TEST_CASE("the emulator counts the launches of each kernel name") {
  const size_t before = cuda_emulator::launches("warp_sums");
  DeviceFloats out(cuda::kThreads);
  for (int i = 0; i < 2; ++i)
    cuda::launch_grid("warp_sums", 1, cuda::BlockThreads::Together, warp_sums, int64_t{0},
                      out.data);
  CHECK(cuda_emulator::launches("warp_sums") == before + 2);
  CHECK(cuda_emulator::launches("a kernel never launched") == 0);
}

TEST_CASE("block_reduce sums one value per thread: 0 + 1 + ... + 255") {
  DeviceFloats out(3);
  cuda::launch_grid("block_sum", 3, cuda::BlockThreads::Together, block_sum, int64_t{0}, out.data);
  CHECK(out.to_host() == std::vector<float>(3, 255.0f * 256.0f / 2.0f));
}

TEST_CASE("fresh device memory reads as NaN, as garbage would") {
  DeviceFloats buffer(4);
  for (float value : buffer.to_host()) CHECK(std::isnan(value));
}

TEST_CASE("a write past either end of a device buffer is reported with the kernel's name") {
  DeviceFloats out(4);
  CHECK_NOTHROW(cuda::launch_grid("write_at", 1, cuda::BlockThreads::Alone, write_at, int64_t{1},
                                  out.data, int64_t{3}));
  CHECK_THROWS_WITH_AS(
      cuda::launch_grid("write_at", 1, cuda::BlockThreads::Alone, write_at, int64_t{1}, out.data,
                        int64_t{4}),
      doctest::Contains("kernel write_at wrote past the end of a 16-byte device buffer"), Error);
  CHECK_THROWS_WITH_AS(
      cuda::launch_grid("write_at", 1, cuda::BlockThreads::Alone, write_at, int64_t{1}, out.data,
                        int64_t{-1}),
      doctest::Contains("kernel write_at wrote past the start of a 16-byte device buffer"), Error);
}

TEST_CASE("a host pointer passed to a kernel is reported, and the kernel does not run") {
  std::vector<float> host(4, 0.0f);
  CHECK_THROWS_WITH_AS(cuda::launch_grid("write_at", 1, cuda::BlockThreads::Alone, write_at,
                                         int64_t{1}, host.data(), int64_t{0}),
                       doctest::Contains("kernel write_at: argument 1 is a pointer to host memory"),
                       Error);
  CHECK(host[0] == 0.0f);
}

TEST_CASE("a barrier that some threads never reach is reported, not hung on") {
  DeviceFloats out(cuda::kThreads);
  CHECK_THROWS_WITH_AS(
      cuda::launch_grid("early_return", 1, cuda::BlockThreads::Together, early_return, int64_t{0},
                        out.data),
      doctest::Contains("kernel early_return, block 0 of 1: a barrier can never open (of 256 "
                        "threads, waiting at __syncthreads: 255, at a warp shuffle: 0, "
                        "returned: 1)"),
      Error);
}

TEST_CASE("a kernel launched one thread per element may not wait at a barrier") {
  DeviceFloats out(cuda::kThreads);
  CHECK_THROWS_WITH_AS(cuda::launch_grid("rotate_through_shared", 1, cuda::BlockThreads::Alone,
                                         rotate_through_shared, int64_t{0}, out.data),
                       doctest::Contains("kernel rotate_through_shared calls __syncthreads, but "
                                         "was launched with one thread per element"),
                       Error);
}

TEST_CASE("cudaMemcpy checks that its pointers match the direction it was given") {
  DeviceFloats device(4);
  std::vector<float> host(4, 1.0f);
  CHECK(cudaMemcpy(device.data, host.data(), 16, cudaMemcpyHostToDevice) == cudaSuccess);
  CHECK(cudaMemcpy(host.data(), device.data, 16, cudaMemcpyHostToDevice) == cudaErrorInvalidValue);
  CHECK(std::string(cudaGetErrorString(cudaGetLastError()))
            .find("the destination is not device memory") != std::string::npos);
  CHECK(cudaMemcpy(host.data(), device.data, 20, cudaMemcpyDeviceToHost) ==
        cudaErrorInvalidValue);  // 4 bytes more than the buffer holds
  cudaGetLastError();
}

TEST_CASE("emulated cuBLAS: column-major products, and cuBLAS's own argument checks") {
  // A = [1 2; 3 4] column-major is {1, 3, 2, 4}; A * A = [7 10; 15 22] -> {7, 15, 10, 22}.
  DeviceFloats a(4), c(4);
  const float values[] = {1, 3, 2, 4};
  REQUIRE(cudaMemcpy(a.data, values, 16, cudaMemcpyHostToDevice) == cudaSuccess);
  cublasHandle_t handle = nullptr;
  REQUIRE(cublasCreate(&handle) == CUBLAS_STATUS_SUCCESS);
  const float one = 1.0f, zero = 0.0f;
  CHECK(cublasSgemmStridedBatched(handle, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &one, a.data, 2, 0,
                                  a.data, 2, 0, &zero, c.data, 2, 0, 1) == CUBLAS_STATUS_SUCCESS);
  CHECK(c.to_host() == std::vector<float>{7, 15, 10, 22});
  // Transposed A: A^T A = [10 14; 14 20].
  CHECK(cublasSgemmStridedBatched(handle, CUBLAS_OP_T, CUBLAS_OP_N, 2, 2, 2, &one, a.data, 2, 0,
                                  a.data, 2, 0, &zero, c.data, 2, 0, 1) == CUBLAS_STATUS_SUCCESS);
  CHECK(c.to_host() == std::vector<float>{10, 14, 14, 20});
  // lda 1 is shorter than A's 2-row columns.
  CHECK(cublasSgemmStridedBatched(handle, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &one, a.data, 1, 0,
                                  a.data, 2, 0, &zero, c.data, 2, 0,
                                  1) == CUBLAS_STATUS_INVALID_VALUE);
  // A second batch 4 floats on would read past A's buffer.
  CHECK(cublasSgemmStridedBatched(handle, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &one, a.data, 2, 4,
                                  a.data, 2, 0, &zero, c.data, 2, 0,
                                  2) == CUBLAS_STATUS_EXECUTION_FAILED);
  CHECK(std::string(cublasGetStatusString(CUBLAS_STATUS_EXECUTION_FAILED))
            .find("outside its device buffer") != std::string::npos);
  CHECK(cublasDestroy(handle) == CUBLAS_STATUS_SUCCESS);
}

TEST_CASE("a full GPU: the caching allocator frees its cache and retries, then reports") {
  cuda_release_cache();
  cuda_emulator::set_memory_limit(1 << 20);  // 1 MiB
  // 600 KB cached after the tensor dies; a 700 KB request fits only once that is released. The
  // 2 MiB segments the allocator asks for first do not fit at all: it falls back to the request's
  // own size (1.2 MB is rounded to its size class, 1310720 bytes).
  { const Tensor first = empty({150'000}, DType::Float32, Device::CUDA); }
  CHECK(cuda_allocator_stats().cached_bytes >= 600'000);
  { const Tensor second = empty({175'000}, DType::Float32, Device::CUDA); }
  CHECK_THROWS_WITH_AS(empty({300'000}, DType::Float32, Device::CUDA),
                       doctest::Contains("cudaMalloc(1310720 bytes): emulator: out of memory"),
                       Error);
  cuda_emulator::set_memory_limit(SIZE_MAX);
  cuda_release_cache();
}

}  // namespace
}  // namespace tg
