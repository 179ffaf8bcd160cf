#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "examples/datasets/loader.h"
#include "framework/tapegrad.h"

using namespace tg;
using namespace tg::data;

TEST_CASE("loader: every sample exactly once per epoch, in batches of the asked size") {
  const Tensor x = arange(10).to(DType::Float32).reshape({10, 1});
  const Tensor y = arange(10);
  const DataLoader loader(x, y, {.batch_size = 4, .shuffle = true, .drop_last = false, .seed = 3});
  CHECK(loader.num_batches() == 3);
  const auto batches = loader.epoch(0);
  REQUIRE(batches.size() == 3);
  CHECK(batches[2].inputs.shape() == Shape{2, 1});
  std::multiset<int32_t> seen;
  for (const Batch& batch : batches) {
    const auto targets = batch.targets.to_vector<int32_t>();
    const auto inputs = batch.inputs.to_vector<float>();
    for (size_t i = 0; i < targets.size(); ++i) {
      CHECK(inputs[i] == static_cast<float>(targets[i]));  // rows stay paired
      seen.insert(targets[i]);
    }
  }
  CHECK(seen == std::multiset<int32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
}

TEST_CASE("loader: the shuffle depends on seed and epoch only, drop_last, no shuffle") {
  const Tensor x = zeros({100, 2});
  const Tensor y = arange(100);
  const DataLoader a(x, y, {.batch_size = 8, .shuffle = true, .drop_last = true, .seed = 1});
  const DataLoader b(x, y, {.batch_size = 8, .shuffle = true, .drop_last = true, .seed = 1});
  const DataLoader c(x, y, {.batch_size = 8, .shuffle = true, .drop_last = true, .seed = 2});
  CHECK(a.order(5) == b.order(5));
  CHECK(a.order(5) != a.order(6));
  CHECK(a.order(5) != c.order(5));
  CHECK(a.num_batches() == 12);
  auto sorted = a.order(0);
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == DataLoader(x, y, {.batch_size = 8, .shuffle = false}).order(0));
}

TEST_CASE("loader: errors and normalize") {
  CHECK_THROWS_WITH_AS(DataLoader(zeros({3, 1}), arange(4), {}),
                       doctest::Contains("DataLoader: 3 inputs but 4 targets"), Error);
  CHECK_THROWS_WITH_AS(DataLoader(zeros({3, 1}), arange(3), {.batch_size = 0}),
                       doctest::Contains("batch_size must be positive"), Error);
  const auto values = normalize(from_vector({1, 3}, {2}), 2, 0.5f).to_vector<float>();
  CHECK(values == std::vector<float>{-2, 2});
  CHECK_THROWS_WITH_AS(normalize(ones({1}), 0, 0), doctest::Contains("normalize: std"), Error);
}
