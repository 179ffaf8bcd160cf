// The CUDA status queries answer on every machine, with or without the backend or a GPU; and
// asking for the GPU where there is none is an error that says why.
#include <doctest/doctest.h>

#include "framework/backend/cuda_status.h"
#include "framework/tapegrad.h"

namespace tg {
namespace {

TEST_CASE("cuda status: answers without throwing, and agrees with itself") {
  bool available = false;
  CHECK_NOTHROW(available = cuda_available());
  if (!cuda_built()) CHECK_FALSE(available);
  CHECK(cuda_device_name().empty() == !available);
  CHECK_NOTHROW(cuda_synchronize());
}

TEST_CASE("cuda status: without a GPU, asking for the cuda device says why") {
  if (cuda_available()) {  // the GPU itself is covered by tests/cuda
    CHECK(zeros({2, 3}, DType::Float32, Device::CUDA).device() == Device::CUDA);
    return;
  }
  CHECK_THROWS_WITH_AS(zeros({2, 3}, DType::Float32, Device::CUDA),
                       doctest::Contains("device cuda: "), tg::Error);
  CHECK_THROWS_WITH_AS(ones({2}).to(Device::CUDA),
                       doctest::Contains(cuda_built() ? "no usable GPU" : "no CUDA backend"),
                       tg::Error);
  CHECK(cuda_allocator_stats().raw_allocations == 0);
  CHECK_NOTHROW(cuda_release_cache());
}

}  // namespace
}  // namespace tg
