// CPU/CUDA parity: every op case of tests/op_cases.h runs forward and backward on both devices,
// and the CUDA results, brought back to the CPU, must match. Plus what the table cannot say:
// the random streams, dropout masks, the caching allocator, transfers and the error messages.
//
// Runs only where a GPU is usable; elsewhere cuda_main.cpp reports the whole suite as skipped.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "../op_cases.h"
#include "framework/backend/cuda_status.h"
#include "framework/backend/host_copies.h"
#include "layers/attention.h"
#include "parity_checks.h"

namespace tg {
namespace {

using testing::check_matches;
using testing::op_cases;
using testing::OpCase;
using testing::weighted_sum;
using testing::worst_error;

// Runs a case forward and, when its output is differentiable, backward on a weighted sum (as
// gradcheck does: a plain sum would hide a softmax backward of zeros). Each device runs its own
// forward and backward in turn: backward() consumes everything the tape recorded.
Tensor forward_backward(const OpCase& c, const std::vector<Tensor>& inputs, uint64_t seed) {
  const Tensor y = c.f(inputs);
  if (y.requires_grad()) weighted_sum(y, seed).backward();
  return y;
}

TEST_CASE("parity: every op case matches the CPU, forward and backward") {
  uint64_t seed = 100;
  for (const OpCase& c : op_cases()) {
    const std::string name = c.name;
    Generator gen(seed++);
    std::vector<Tensor> cpu_inputs, gpu_inputs;
    for (const Shape& shape : c.inputs) {
      Tensor x = randn(shape, gen);
      Tensor moved = x.to(Device::CUDA);
      cpu_inputs.push_back(x.set_requires_grad());
      gpu_inputs.push_back(moved.set_requires_grad());
    }
    const Tensor y_cpu = forward_backward(c, cpu_inputs, seed * 31);
    const Tensor y_gpu = forward_backward(c, gpu_inputs, seed * 31);
    check_matches(y_cpu, y_gpu, name + ": forward");
    for (size_t i = 0; i < cpu_inputs.size(); ++i) {
      const std::string what = name + ": gradient of input " + std::to_string(i);
      REQUIRE_MESSAGE(cpu_inputs[i].grad().defined() == gpu_inputs[i].grad().defined(), what);
      if (cpu_inputs[i].grad().defined())
        check_matches(cpu_inputs[i].grad(), gpu_inputs[i].grad(), what);
    }
  }
}

TEST_CASE("parity: the random streams are the same numbers on both devices") {
  Generator cpu_gen(42), gpu_gen(42);
  cpu_gen.advance(1000);  // a nonzero offset, as mid-training
  gpu_gen.advance(1000);
  const Shape shape{123, 77};
  // Uniform and Bernoulli are bit-identical: integer Philox, exactly rounded affine maps.
  CHECK(uniform(shape, -2.0f, 3.0f, cpu_gen).to_vector<float>() ==
        uniform(shape, -2.0f, 3.0f, gpu_gen, Device::CUDA).to(Device::CPU).to_vector<float>());
  CHECK(bernoulli(shape, 0.3f, cpu_gen).to_vector<float>() ==
        bernoulli(shape, 0.3f, gpu_gen, Device::CUDA).to(Device::CPU).to_vector<float>());
  // Normal goes through logf/cosf, whose last bit may differ between the host and device libm.
  const Tensor normal_cpu = randn(shape, cpu_gen, 1.0f, 2.0f);
  const Tensor normal_gpu = randn(shape, gpu_gen, 1.0f, 2.0f, Device::CUDA);
  CHECK(worst_error(normal_cpu.to_vector<float>(), normal_gpu.to(Device::CPU).to_vector<float>()) <
        1e-5);
  CHECK(cpu_gen.offset() == gpu_gen.offset());
}

TEST_CASE("parity: dropout draws the same mask on both devices") {
  Generator data(3);
  const Tensor x = randn({64, 33}, data);
  Generator cpu_gen(9), gpu_gen(9);
  const Tensor y_cpu = dropout(x, 0.4f, true, cpu_gen);
  const Tensor y_gpu = dropout(x.to(Device::CUDA), 0.4f, true, gpu_gen);
  const std::vector<int32_t> kept_cpu = ne(y_cpu, zeros_like(y_cpu)).to_vector<int32_t>();
  const std::vector<int32_t> kept_gpu =
      ne(y_gpu, zeros_like(y_gpu)).to(Device::CPU).to_vector<int32_t>();
  CHECK(kept_cpu == kept_gpu);
  const auto dropped = std::count(kept_cpu.begin(), kept_cpu.end(), 0);
  CHECK(dropped > 0.3 * 64 * 33);  // the mask really drops about 40%
  CHECK(dropped < 0.5 * 64 * 33);
  check_matches(y_cpu, y_gpu, "dropout values");
}

TEST_CASE("parity: creation, casts and transfers") {
  check_matches(full({3, 5}, 2.5f), full({3, 5}, 2.5f, DType::Float32, Device::CUDA), "full");
  check_matches(full({4}, 7.0f, DType::Int32), full({4}, 7.0f, DType::Int32, Device::CUDA),
                "full int32");
  check_matches(arange(0.5f, 9.0f, 0.75f), arange(0.5f, 9.0f, 0.75f, DType::Float32, Device::CUDA),
                "arange");
  check_matches(arange(10), arange(10, DType::Int32, Device::CUDA), "arange int32");
  const Tensor values = from_vector({-2.7f, -0.5f, 0.0f, 1.9f, 3.2f}, {5});
  check_matches(values.to(DType::Int32), values.to(Device::CUDA).to(DType::Int32), "cast");
  const Tensor ids = from_vector(std::vector<int32_t>{-3, 0, 12}, {3});
  check_matches(ids.to(DType::Float32), ids.to(Device::CUDA).to(DType::Float32), "cast back");
  CHECK(ids.to(Device::CUDA).to(Device::CPU).to_vector<int32_t>() == ids.to_vector<int32_t>());
  const Tensor on_gpu = values.to(Device::CUDA);
  const Tensor copy = on_gpu.clone();
  CHECK(copy.storage() != on_gpu.storage());
  CHECK(copy.to(Device::CPU).to_vector<float>() == values.to_vector<float>());
  // Views on the GPU start at an offset into their storage.
  check_matches(narrow(values, 0, 2, 3), narrow(on_gpu, 0, 2, 3), "view at an offset");
  // Empty tensors: no kernel launches with an empty grid.
  const Tensor empty_gpu = zeros({0, 3}, DType::Float32, Device::CUDA);
  check_matches(sum(zeros({0, 3}) * 2.0f, {0}), sum(empty_gpu * 2.0f, {0}), "empty");
}

TEST_CASE("parity: large tensors exercise the grid-stride loops and long grids" *
          doctest::test_suite("large grids")) {
  Generator gen(5);
  // 70000 rows > 65535 blocks: launch_rows loops; 21M elements > 65535 * 256: launch loops.
  const Tensor x = uniform({70000, 300}, -1.0f, 1.0f, gen);
  const Tensor g = x.to(Device::CUDA);
  check_matches(x * 2.0f + 1.0f, g * 2.0f + 1.0f, "elementwise");
  check_matches(sum(x, {1}), sum(g, {1}), "row sums");
  check_matches(softmax(x, 1), softmax(g, 1), "softmax rows");
  check_matches(argmax(x, 1), argmax(g, 1), "argmax rows");
}

TEST_CASE("parity: max, min and argmax propagate NaN on the GPU as on the CPU") {
  // Rows long enough for the block-per-row kernels (256 and more) and short ones (one thread per
  // output), the NaN at the start, the middle and the end, and a column reduction.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int64_t n : {5, 300}) {
    for (int64_t at : {int64_t{0}, n / 2, n - 1}) {
      INFO("row length ", n, ", NaN at ", at);
      std::vector<float> values(static_cast<size_t>(3 * n));
      for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i % 7);
      values[static_cast<size_t>(n + at)] = nan;         // row 1 only
      values[static_cast<size_t>(2 * n + n - 1)] = nan;  // row 2: also a later NaN
      values[static_cast<size_t>(2 * n + at)] = nan;
      const Tensor cpu = from_vector(values, {3, n});
      const Tensor gpu = cpu.to(Device::CUDA);
      for (int64_t dim : {0, 1}) {
        const std::vector<float> want_max = max(cpu, {dim}).to_vector<float>();
        const std::vector<float> got_max = max(gpu, {dim}).to(Device::CPU).to_vector<float>();
        const std::vector<float> got_min = min(gpu, {dim}).to(Device::CPU).to_vector<float>();
        REQUIRE(got_max.size() == want_max.size());
        for (size_t i = 0; i < want_max.size(); ++i) {
          CHECK(std::isnan(got_max[i]) == std::isnan(want_max[i]));
          CHECK(std::isnan(got_min[i]) == std::isnan(want_max[i]));
          if (!std::isnan(want_max[i])) CHECK(got_max[i] == want_max[i]);
        }
        CHECK(argmax(gpu, dim).to(Device::CPU).to_vector<int32_t>() ==
              argmax(cpu, dim).to_vector<int32_t>());
      }
      CHECK(argmax(gpu, 1).to(Device::CPU).to_vector<int32_t>()[1] == at);
      CHECK(argmax(gpu, 1).to(Device::CPU).to_vector<int32_t>()[2] == at);
      CHECK(std::isnan(max(gpu).to(Device::CPU).item()));
    }
  }
}

TEST_CASE("the CUDA caching allocator reuses freed buffers") {
  cuda_release_cache();
  const uint64_t before = cuda_allocator_stats().raw_allocations;
  { const Tensor first = empty({1000, 257}, DType::Float32, Device::CUDA); }
  const CachingAllocator::Stats after_first = cuda_allocator_stats();
  CHECK(after_first.raw_allocations == before + 1);
  CHECK(after_first.cached_bytes >= 1000 * 257 * 4);
  { const Tensor second = empty({257, 1000}, DType::Float32, Device::CUDA); }
  const CachingAllocator::Stats after_second = cuda_allocator_stats();
  CHECK(after_second.raw_allocations == after_first.raw_allocations);  // no cudaMalloc
  CHECK(after_second.cache_hits == after_first.cache_hits + 1);
  cuda_release_cache();
  CHECK(cuda_allocator_stats().cached_bytes == 0);
}

TEST_CASE("errors on the GPU name the op and what came") {
  const Tensor on_cpu = ones({2, 3});
  const Tensor on_gpu = ones({2, 3}, DType::Float32, Device::CUDA);
  CHECK_THROWS_WITH_AS(add(on_cpu, on_gpu),
                       doctest::Contains("add: tensors on different devices (cpu and cuda)"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(matmul(on_gpu, on_cpu, false, true),
                       doctest::Contains("tensors on different devices (cuda and cpu)"), tg::Error);
  const Tensor logits = zeros({4, 10}, DType::Float32, Device::CUDA);
  const Tensor targets = from_vector(std::vector<int32_t>{0, 1, 2, 12}, {4}, Device::CUDA);
  // Targets and ids are checked on the GPU, without a copy to the host: a bad one is reported
  // at the next host copy or synchronisation, and until then nothing reads out of bounds.
  const int64_t copies_before = host_copy_count();
  const Tensor loss = cross_entropy(logits, targets);
  CHECK(host_copy_count() == copies_before);
  CHECK_THROWS_WITH_AS(loss.item(),
                       doctest::Contains("cross_entropy: target 12 at row 3 is out of range "
                                         "[0, 10) (checked on the GPU, reported at the next "
                                         "host copy)"),
                       tg::Error);
  const Tensor bad_ids = from_vector(std::vector<int32_t>{0, 7}, {2}, Device::CUDA);
  const Tensor rows = embedding(zeros({5, 2}, DType::Float32, Device::CUDA), bad_ids);
  CHECK_THROWS_WITH_AS(cuda_synchronize(),
                       doctest::Contains("embedding: id 7 at position 1 is out of range [0, 5)"),
                       tg::Error);
  // Reported once: the next copy reads the rows, the bad id's row as zeros.
  CHECK(rows.to(Device::CPU).to_vector<float>() == std::vector<float>{0, 0, 0, 0});
  const Tensor lengths = from_vector(std::vector<int32_t>{2, 5}, {2}, Device::CUDA);
  const Tensor mask = key_padding_mask(lengths, 3);
  CHECK_THROWS_WITH_AS(mask.to(Device::CPU),
                       doctest::Contains("key_padding_mask: valid length 5 at batch index 1 is "
                                         "out of range [0, 3]"),
                       tg::Error);
}

// On the emulator a CUDA tensor's memory is host memory, so without this check host code reading
// it would pass there and crash on a GPU.
TEST_CASE("data<T>() on a CUDA tensor refuses, and says to copy it to the CPU first") {
  const Tensor on_gpu = full({2, 3}, 4.0f, DType::Float32, Device::CUDA);
  CHECK_THROWS_WITH_AS(on_gpu.data<float>(),
                       doctest::Contains("tensor data: data<T>() reads host memory, but the tensor "
                                         "is on cuda; copy it first with .to(Device::CPU)"),
                       tg::Error);
  const Tensor ids = from_vector(std::vector<int32_t>{3, 1}, {2}, Device::CUDA);
  CHECK_THROWS_WITH_AS(ids.data<int32_t>(), doctest::Contains("the tensor is on cuda"), tg::Error);
  CHECK(on_gpu.to(Device::CPU).data<float>()[5] == 4.0f);
  CHECK(ids.to(Device::CPU).data<int32_t>()[0] == 3);
}

TEST_CASE("cuda status describes the GPU") {
  CHECK(cuda_built());
  CHECK(cuda_available());
  CHECK_FALSE(cuda_device_name().empty());
  CHECK_NOTHROW(cuda_synchronize());
}

}  // namespace
}  // namespace tg
