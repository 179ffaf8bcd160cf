// The distributed side of the DataLoader: each rank's share of every global batch.
#include <doctest/doctest.h>

#include <algorithm>

#include "examples/datasets/loader.h"
#include "framework/tapegrad.h"

using namespace tg;
using namespace tg::data;

TEST_CASE("share_of_batch splits a batch into contiguous shares that differ by at most one") {
  // 7 samples on 3 ranks: 3, 2, 2.
  CHECK(share_of_batch(7, 0, 3).begin == 0);
  CHECK(share_of_batch(7, 0, 3).size == 3);
  CHECK(share_of_batch(7, 1, 3).begin == 3);
  CHECK(share_of_batch(7, 1, 3).size == 2);
  CHECK(share_of_batch(7, 2, 3).begin == 5);
  CHECK(share_of_batch(7, 2, 3).size == 2);
  // Fewer samples than ranks: the last rank gets none.
  CHECK(share_of_batch(1, 1, 2).size == 0);
  CHECK(share_of_batch(1, 0, 2).size == 1);
}

TEST_CASE("share_of_batch and DataLoader refuse a rank outside the world") {
  CHECK_THROWS_WITH(share_of_batch(8, 2, 2),
                    "share_of_batch: rank must be in [0, world_size), got rank 2 of 2");
  const Tensor x = zeros({4, 1}), y = zeros({4}, DType::Int32);
  CHECK_THROWS_WITH(DataLoader(x, y, {.rank = 0, .world_size = 0}),
                    "DataLoader: rank must be in [0, world_size), got rank 0 of 0");
}

// The sample ids each rank sees in an epoch, batch by batch: inputs are the ids themselves.
static std::vector<std::vector<int32_t>> batches_of(int64_t n, int64_t batch, bool drop_last,
                                                    int rank, int world) {
  std::vector<float> ids(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) ids[static_cast<size_t>(i)] = static_cast<float>(i);
  const DataLoader loader(
      from_vector(ids, {n}), zeros({n}, DType::Int32),
      {.batch_size = batch, .drop_last = drop_last, .seed = 5, .rank = rank, .world_size = world});
  std::vector<std::vector<int32_t>> out;
  for (const Batch& b : loader.epoch(2))
    out.push_back(b.inputs.to(DType::Int32).to_vector<int32_t>());
  return out;
}

TEST_CASE("ranks together see each sample once per epoch, as one process with the global batch") {
  // 23 samples, 3 ranks of 4: global batches of 12, 11 (the last one uneven: 4, 4, 3).
  const auto whole = batches_of(23, 12, false, 0, 1);
  REQUIRE(whole.size() == 2);
  std::vector<std::vector<int32_t>> ranks;
  for (int r = 0; r < 3; ++r) {
    auto mine = batches_of(23, 4, false, r, 3);
    REQUIRE(mine.size() == 2);
    ranks.push_back(mine[0]);
    ranks.push_back(mine[1]);
  }
  CHECK(ranks[5].size() == 3);  // rank 2's share of the last batch
  for (size_t b = 0; b < 2; ++b) {
    std::vector<int32_t> joined;
    for (int r = 0; r < 3; ++r)
      joined.insert(joined.end(), ranks[2 * r + b].begin(), ranks[2 * r + b].end());
    CHECK(joined == whole[b]);  // the global batch, in order
  }
  // With drop_last the uneven global batch goes on every rank alike.
  for (int r = 0; r < 3; ++r) CHECK(batches_of(23, 4, true, r, 3).size() == 1);
}
