#include "examples/datasets/loader.h"

#include <numeric>

#include "framework/ops/elementwise.h"
#include "framework/ops/index.h"
#include "framework/random.h"
#include "framework/tape.h"

namespace tg::data {

DataLoader::DataLoader(Tensor inputs, Tensor targets, LoaderOptions options)
    : inputs_(std::move(inputs)), targets_(std::move(targets)), options_(options) {
  check(inputs_.dim() >= 1 && targets_.dim() >= 1,
        "DataLoader: inputs and targets need a sample dim");
  check(inputs_.size(0) == targets_.size(0), "DataLoader: ", inputs_.size(0), " inputs but ",
        targets_.size(0), " targets");
  check(options_.batch_size > 0, "DataLoader: batch_size must be positive, got ",
        options_.batch_size);
  check(options_.world_size >= 1 && options_.rank >= 0 && options_.rank < options_.world_size,
        "DataLoader: rank must be in [0, world_size), got rank ", options_.rank, " of ",
        options_.world_size);
  num_samples_ = inputs_.size(0);
}

Share share_of_batch(int64_t count, int rank, int world_size) {
  check(world_size >= 1 && rank >= 0 && rank < world_size,
        "share_of_batch: rank must be in [0, world_size), got rank ", rank, " of ", world_size);
  check(count >= 0, "share_of_batch: expected a batch of at least 0 samples, got ", count);
  const int64_t base = count / world_size, extra = count % world_size;
  return {rank * base + std::min<int64_t>(rank, extra), base + (rank < extra ? 1 : 0)};
}

int64_t DataLoader::num_batches() const {
  const int64_t b = options_.batch_size * options_.world_size;
  return options_.drop_last ? num_samples_ / b : (num_samples_ + b - 1) / b;
}

std::vector<int32_t> DataLoader::order(int64_t epoch) const {
  std::vector<int32_t> indices(static_cast<size_t>(num_samples_));
  std::iota(indices.begin(), indices.end(), 0);
  if (!options_.shuffle) return indices;
  // Fisher-Yates: swap position i with a uniform j in [0, i]. The stream for an epoch is
  // Philox with key = seed and counters starting at epoch * 2^32.
  const uint64_t base = static_cast<uint64_t>(epoch) << 32;
  for (int64_t i = num_samples_ - 1; i > 0; --i) {
    const uint32_t bits = philox4x32(options_.seed, base + static_cast<uint64_t>(i)).w[0];
    const auto j =
        static_cast<int64_t>((static_cast<uint64_t>(bits) * static_cast<uint64_t>(i + 1)) >> 32);
    std::swap(indices[i], indices[j]);
  }
  return indices;
}

std::vector<Batch> DataLoader::epoch(int64_t epoch) const {
  NoGradGuard no_recording;
  const std::vector<int32_t> indices = order(epoch);
  std::vector<Batch> batches;
  const int64_t global_batch = options_.batch_size * options_.world_size;
  for (int64_t b = 0; b < num_batches(); ++b) {
    const int64_t global_start = b * global_batch;
    const Share share = share_of_batch(std::min(global_batch, num_samples_ - global_start),
                                       options_.rank, options_.world_size);
    const int64_t start = global_start + share.begin, count = share.size;
    const Tensor index = from_vector(
        std::vector<int32_t>(indices.begin() + start, indices.begin() + start + count), {count});
    batches.push_back({index_select(inputs_, 0, index), index_select(targets_, 0, index)});
  }
  return batches;
}

Tensor normalize(const Tensor& x, float mean, float std) {
  check(std > 0, "normalize: std must be positive, got ", std);
  return (x - mean) * (1.0f / std);
}

}  // namespace tg::data
