// Batches for training: a seeded shuffle per epoch, batch_size, drop_last.
//
// The order of epoch e is a pure function of (seed, e), a Fisher-Yates shuffle driven by
// Philox, so a run resumed at epoch e sees exactly the batches the uninterrupted run saw.
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
};

struct Batch {
  Tensor inputs;  // rows of inputs at this batch's indices
  Tensor targets;
};

class DataLoader {
 public:
  // inputs and targets share their first dim (the samples).
  DataLoader(Tensor inputs, Tensor targets, LoaderOptions options);

  int64_t size() const { return num_samples_; }
  int64_t num_batches() const;
  // The sample order of an epoch (a permutation of 0..size-1, or the identity).
  std::vector<int32_t> order(int64_t epoch) const;
  // Every batch of an epoch, in order.
  std::vector<Batch> epoch(int64_t epoch) const;

 private:
  Tensor inputs_, targets_;
  LoaderOptions options_;
  int64_t num_samples_;
};

// (x - mean) / std, elementwise; returns a new tensor.
Tensor normalize(const Tensor& x, float mean, float std);

}  // namespace tg::data
