// The CUDA caching allocator in a training loop: variable-length batches, as the G2P programs
// feed, stop calling cudaMalloc once the largest shapes have been seen (issue #17). Runs on a
// GPU and on the CPU emulator of CUDA, which counts the same cudaMalloc calls.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "framework/backend/cuda_status.h"
#include "framework/tapegrad.h"
#include "layers/layers.h"
#include "optim/optim.h"
#include "tests/cuda/layer_parity.h"

namespace tg {
namespace {

using namespace testing;  // TinySeq2Seq, kVocab, kPad

// A batch of `batch` pairs, lengths drawn in [1, max_length], ids in [1, kVocab), pad after.
std::vector<Tensor> random_batch(int64_t batch, int64_t max_length, std::mt19937& random) {
  std::uniform_int_distribution<int32_t> id(1, static_cast<int32_t>(kVocab) - 1);
  std::uniform_int_distribution<int32_t> length(1, static_cast<int32_t>(max_length));
  std::vector<Tensor> out;
  for (int side = 0; side < 2; ++side) {
    std::vector<int32_t> ids, lengths;
    for (int64_t b = 0; b < batch; ++b) {
      lengths.push_back(length(random));
      for (int64_t t = 0; t < max_length; ++t) ids.push_back(t < lengths.back() ? id(random) : 0);
    }
    out.push_back(from_vector(ids, {batch, max_length}).to(Device::CUDA));
    out.push_back(from_vector(lengths, {batch}).to(Device::CUDA));
  }
  return out;  // source, source lengths, target, target lengths
}

TEST_CASE("cuda allocator: no cudaMalloc in a training step once warm, batch shapes varying") {
  Generator gen(5);
  TinySeq2Seq model(1, gen);
  model.to(Device::CUDA);
  Adam optimizer(model.parameters());
  std::mt19937 random(11);
  std::uniform_int_distribution<int64_t> batch_size(2, 8), max_length(2, 9);
  const auto step = [&](int64_t batch, int64_t length) {
    const std::vector<Tensor> b = random_batch(batch, length, random);
    optimizer.zero_grad();
    const Tensor logits = model.forward(b[0], b[1], b[2], b[3]);
    const Tensor loss = sequence_cross_entropy(logits, b[2], kPad);
    loss.backward();
    optimizer.step();
    return loss.item();
  };
  // Two warm-up steps at the largest shape, then varying ones.
  for (int i = 0; i < 2; ++i) CHECK(std::isfinite(step(8, 9)));
  const uint64_t warm = cuda_allocator_stats().raw_allocations;
  std::vector<uint64_t> new_allocations;
  for (int i = 0; i < 12; ++i) {
    const uint64_t before = cuda_allocator_stats().raw_allocations;
    CHECK(std::isfinite(step(batch_size(random), max_length(random))));
    new_allocations.push_back(cuda_allocator_stats().raw_allocations - before);
  }
  CHECK(new_allocations == std::vector<uint64_t>(12, 0));
  CHECK(cuda_allocator_stats().raw_allocations == warm);
  CHECK(cuda_allocator_stats().peak_in_use_bytes > 0);
}

}  // namespace
}  // namespace tg
