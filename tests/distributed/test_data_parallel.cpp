// Data-parallel training: R ranks, each on its share of a global batch, must train exactly as
// one process does with the whole global batch. Run on 2 ranks by CTest (distributed/two_ranks)
// and on one (distributed/one_rank); every rank runs every case and checks it on its own.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "examples/datasets/loader.h"
#include "framework/backend/cuda_status.h"
#include "framework/tapegrad.h"
#include "layers/layers.h"
#include "optim/distributed/distributed.h"
#include "optim/optim.h"

using namespace tg;
namespace dist = tg::distributed;

namespace {

struct SmallNet : Module {
  Linear hidden, output;
  explicit SmallNet(uint64_t seed) : SmallNet(Generator(seed)) {}
  explicit SmallNet(Generator gen)
      : Module("SmallNet"), hidden(6, 8, true, gen), output(8, 3, true, gen) {
    register_module("hidden", hidden);
    register_module("output", output);
  }
  Tensor forward(const Tensor& x) const { return output(tanh(hidden(x))); }
};

// 20 samples of 6 features, 3 classes.
struct Samples {
  Tensor inputs, labels;
};
Samples make_samples() {
  Generator gen(11);
  std::vector<int32_t> labels(20);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<int32_t>((i * 7) % 3);
  return {randn({20, 6}, gen), from_vector(labels, {20})};
}

Tensor rows(const Tensor& t, const std::vector<int32_t>& indices) {
  return index_select(t, 0, from_vector(indices, {static_cast<int64_t>(indices.size())}));
}

float max_difference(const Module& a, const Module& b) {
  const std::vector<Tensor> pa = a.parameters(), pb = b.parameters();
  float worst = 0;
  for (size_t i = 0; i < pa.size(); ++i) {
    const auto x = pa[i].to_vector<float>(), y = pb[i].to_vector<float>();
    for (size_t j = 0; j < x.size(); ++j) worst = std::max(worst, std::abs(x[j] - y[j]));
  }
  return worst;
}

// Trains for one epoch of global batches of `global_batch` samples (the last one smaller),
// with AdamW. Distributed: this rank takes its share of each global batch and the gradients
// are averaged. Reference: the whole global batch in this process.
void train_epoch(SmallNet& model, const Samples& data, int64_t global_batch, bool distributed) {
  AdamW optimizer(model.parameters(), {});
  dist::GradientAverager averager(model, /*bucket_bytes=*/16);  // three buckets
  const std::vector<int32_t> order =
      data::DataLoader(data.inputs, data.labels, {.batch_size = 1, .seed = 3}).order(0);
  const int64_t n = static_cast<int64_t>(order.size());
  for (int64_t start = 0; start < n; start += global_batch) {
    const int64_t count = std::min(global_batch, n - start);
    data::Share share{0, count};
    if (distributed) share = data::share_of_batch(count, dist::rank(), dist::world_size());
    const std::vector<int32_t> mine(order.begin() + start + share.begin,
                                    order.begin() + start + share.begin + share.size);
    optimizer.zero_grad();
    if (!mine.empty())
      cross_entropy(model.forward(rows(data.inputs, mine)), rows(data.labels, mine)).backward();
    if (distributed) CHECK(averager.average(share.size) == count);
    optimizer.step();
  }
}

}  // namespace

TEST_CASE("ranks with shares of each global batch train as one process with the whole batch") {
  const Samples data = make_samples();
  // 7 does not divide 20 (batches of 7, 7, 6) and a share of 7 is 4 and 3 on two ranks: the
  // average must weigh each rank by its samples.
  for (int64_t global_batch : {8, 7}) {
    CAPTURE(global_batch);
    SmallNet distributed(0), reference(0);
    train_epoch(distributed, data, global_batch, true);
    train_epoch(reference, data, global_batch, false);
    CHECK(max_difference(distributed, reference) < 1e-5f);
    CHECK(max_difference(distributed, SmallNet(0)) > 1e-3f);  // it did train
  }
}

TEST_CASE("a rank without samples in a step still joins the average") {
  // A global batch of 1 on two ranks: rank 1 has none and no gradient.
  SmallNet model(0), reference(0);
  const Samples data = make_samples();
  const std::vector<int32_t> first{0};
  for (Module* m : {static_cast<Module*>(&model), static_cast<Module*>(&reference)}) m->zero_grad();
  if (dist::rank() == 0)
    cross_entropy(model.forward(rows(data.inputs, first)), rows(data.labels, first)).backward();
  dist::GradientAverager averager(model);
  CHECK(averager.average(dist::rank() == 0 ? 1 : 0) == 1);
  cross_entropy(reference.forward(rows(data.inputs, first)), rows(data.labels, first)).backward();
  const std::vector<Tensor> got = model.parameters(), want = reference.parameters();
  for (size_t i = 0; i < got.size(); ++i) {
    const auto g = got[i].grad().to_vector<float>(), w = want[i].grad().to_vector<float>();
    for (size_t j = 0; j < g.size(); ++j) CHECK(std::abs(g[j] - w[j]) < 1e-6f);
  }
}

TEST_CASE("broadcast_parameters gives every rank the parameters of rank 0") {
  SmallNet model(100 + static_cast<uint64_t>(dist::rank()));  // a different start on each rank
  dist::broadcast_parameters(model);
  CHECK(max_difference(model, SmallNet(100)) == 0.0f);
}

TEST_CASE("broadcast_value and sum agree on every rank") {
  const int64_t chosen = dist::broadcast_value(dist::rank() == 0 ? 42 : -1);
  CHECK(chosen == 42);
  const int ranks = dist::world_size();
  CHECK(dist::sum(dist::rank() + 1.0) == doctest::Approx(ranks * (ranks + 1) / 2.0));
  const std::vector<double> totals = dist::sum(std::vector<double>{1.0, 0.5});
  CHECK(totals[0] == doctest::Approx(ranks));
  CHECK(totals[1] == doctest::Approx(0.5 * ranks));
}

TEST_CASE("GradientAverager reports its buckets and refuses a negative count") {
  SmallNet model(0);
  // 8x6 + 8 + 3x8 + 3 = 83 floats; in reverse order: output.bias, output.weight | hidden...
  dist::GradientAverager one_bucket(model);
  CHECK(one_bucket.bucket_count() == 1);
  CHECK(one_bucket.bytes_per_step() == (83 + 1) * sizeof(float));  // + the sample count
  // A bucket closes once it holds bucket_bytes: [3 + 24 floats], [8], [48] with 16 bytes.
  dist::GradientAverager small_buckets(model, 16);
  CHECK(small_buckets.bucket_count() == 3);
  CHECK_THROWS_WITH(one_bucket.average(-1),
                    "GradientAverager::average: expected a sample count >= 0, got -1");
}

TEST_CASE("a build without MPI says how to get it") {
  if (dist::available()) return;
  CHECK(dist::world_size() == 1);
  CHECK_THROWS_WITH(dist::init(),
                    doctest::Contains("this build has no MPI (on Debian: apt-get install "
                                      "libopenmpi-dev openmpi-bin"));
}

TEST_CASE("gradients of CUDA parameters are averaged through host memory") {
  if (!cuda_available()) {
    MESSAGE("skipped: no GPU (tests/distributed runs this case on the CUDA emulator)");
    return;
  }
  const Samples data = make_samples();
  std::vector<int32_t> batch(8);
  for (size_t i = 0; i < batch.size(); ++i) batch[i] = static_cast<int32_t>(2 * i);
  const data::Share share = data::share_of_batch(8, dist::rank(), dist::world_size());
  const std::vector<int32_t> mine(batch.begin() + share.begin,
                                  batch.begin() + share.begin + share.size);
  SmallNet on_gpu(0), reference(0);
  on_gpu.to(Device::CUDA);
  cross_entropy(on_gpu.forward(rows(data.inputs, mine).to(Device::CUDA)),
                rows(data.labels, mine).to(Device::CUDA))
      .backward();
  dist::GradientAverager(on_gpu, 16).average(share.size);
  cross_entropy(reference.forward(rows(data.inputs, batch)), rows(data.labels, batch)).backward();
  const std::vector<Tensor> got = on_gpu.parameters(), want = reference.parameters();
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].grad().device() == Device::CUDA);
    const auto g = got[i].grad().to(Device::CPU).to_vector<float>();
    const auto w = want[i].grad().to_vector<float>();
    for (size_t j = 0; j < g.size(); ++j) CHECK(std::abs(g[j] - w[j]) < 1e-5f);
  }
}

TEST_CASE("separate_random_streams gives each rank its own stream and rank 0 the one it had") {
  Generator gen(9);
  (void)uniform({5}, 0, 1, gen);  // offset 5 on every rank
  Generator reference(9);
  (void)uniform({5}, 0, 1, reference);
  dist::separate_random_streams(gen);
  CHECK(gen.offset() == 5);
  const double mine = uniform({1}, 0, 1, gen).item();
  CHECK((mine == uniform({1}, 0, 1, reference).item()) == (dist::rank() == 0));
  // Every rank's first number differs from every other's: their sum differs from R times any.
  if (dist::world_size() > 1) CHECK(dist::sum(mine) != doctest::Approx(dist::world_size() * mine));
}
