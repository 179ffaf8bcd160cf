// Batches for training: a seeded shuffle per epoch, batch_size, drop_last.
//
// The order of epoch e is a pure function of (seed, e), a Fisher-Yates shuffle driven by
// Philox, so a run resumed at epoch e sees exactly the batches the uninterrupted run saw.
//
// Distributed training (optim/distributed/distributed.h): with world_size ranks, batch_size is
// the batch of one rank. Every rank computes the same order (same seed), cuts it into global
// batches of world_size * batch_size, and takes its share of each: no sample is seen twice in
// an epoch, and the ranks together see what one process with the global batch sees.
#pragma once

#include <cstdint>
#include <vector>

#include "framework/tensor.h"

namespace tg::data {

struct LoaderOptions {
  int64_t batch_size = 64;
  bool shuffle = true;
  bool drop_last = false;  // drop a last batch smaller than batch_size
  uint64_t seed = 0;
  int rank = 0, world_size = 1;  // this process's share of each global batch (distributed)
};

// Rank `rank` of world_size takes rows [begin, begin + size) of a global batch of count samples:
// contiguous shares whose sizes differ by at most one (the first count % world_size ranks take
// one more), so the shares cover the batch once. A rank can get none (count < world_size).
struct Share {
  int64_t begin = 0, size = 0;
};
Share share_of_batch(int64_t count, int rank, int world_size);

struct Batch {
  Tensor inputs;  // rows of inputs at this batch's indices
  Tensor targets;
};

class DataLoader {
 public:
  // inputs and targets share their first dim (the samples).
  DataLoader(Tensor inputs, Tensor targets, LoaderOptions options);

  int64_t size() const { return num_samples_; }
  int64_t num_batches() const;  // global batches: steps per epoch
  // The sample order of an epoch (a permutation of 0..size-1, or the identity).
  std::vector<int32_t> order(int64_t epoch) const;
  // Every batch of an epoch, in order (distributed: this rank's share of each).
  std::vector<Batch> epoch(int64_t epoch) const;

 private:
  Tensor inputs_, targets_;
  LoaderOptions options_;
  int64_t num_samples_;
};

// (x - mean) / std, elementwise; returns a new tensor.
Tensor normalize(const Tensor& x, float mean, float std);

}  // namespace tg::data
