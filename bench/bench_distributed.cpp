// Data-parallel training steps: the samples per second of a global batch split among the ranks
// of an MPI job, and the share of each step spent averaging the gradients (the allreduce).
//
//   build/bench/bench_distributed --threads 2                       # 1 process x 2 threads
//   mpirun -np 2 --bind-to none build/bench/bench_distributed --distributed --threads 1
//
// Workloads (a fixed global batch, whatever the number of ranks):
//   fashion_mlp      the example's MLP 784-512-256-10 (GELU, dropout 0.2), global batch 128,
//                    AdamW, cross-entropy on random images
//   g2p_transformer  bench_workloads' Transformer 2+2 layers, d 128, 4 heads, ff 512, global
//                    batch 64 words of 4..10 letters and phonemes, AdamW, label smoothing 0.1
// Rank 0 prints one JSON line per workload: ranks, threads, global batch, the median ms per step
// over the measurements, samples/s, the allreduce's ms per step (median and fastest measurement)
// and share, and the bytes each rank sends into the allreduce per step
// (bench/distributed_scaling.py reads them). A barrier
// before each average measures apart the time a rank waits for the slower one ("wait_ms").
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "bench/workload_models.h"
#include "framework/tapegrad.h"
#include "layers/layers.h"
#include "optim/distributed/distributed.h"
#include "optim/optim.h"

namespace {

namespace dist = tg::distributed;
using tg::Tensor;

struct FashionMlp : tg::Module {
  tg::Linear hidden1, hidden2, output;
  tg::Dropout dropout;
  explicit FashionMlp(tg::Generator& gen)
      : Module("FashionMLP"),
        hidden1(784, 512, true, gen),
        hidden2(512, 256, true, gen),
        output(256, 10, true, gen),
        dropout(0.2f) {
    register_module("hidden1", hidden1);
    register_module("hidden2", hidden2);
    register_module("output", output);
    register_module("dropout", dropout);
  }
  Tensor loss(const Tensor& images, const Tensor& labels) const {
    const Tensor h = dropout(tg::gelu(hidden2(dropout(tg::gelu(hidden1(images))))));
    return tg::cross_entropy(output(h), labels);
  }
};

// Random ids in [1, vocab) for the first lengths[b] positions of each row, padding (0) after.
Tensor random_ids(const std::vector<int32_t>& lengths, int64_t width, float vocab,
                  tg::Generator& gen) {
  const auto rows = static_cast<int64_t>(lengths.size());
  const std::vector<float> draws = tg::uniform({rows, width}, 1.0f, vocab, gen).to_vector<float>();
  std::vector<int32_t> ids(draws.size());
  for (int64_t b = 0; b < rows; ++b)
    for (int64_t t = 0; t < width; ++t)
      ids[b * width + t] = t < lengths[b] ? static_cast<int32_t>(draws[b * width + t]) : 0;
  return tg::from_vector(ids, {rows, width});
}

struct Result {
  double step_ms = 0, wait_ms = 0, allreduce_ms = 0, allreduce_min_ms = 0;
  size_t bytes = 0;
};

double median(std::vector<double> values) {
  std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
  return values[values.size() / 2];
}

// Times steps of: zero grads, loss of this rank's share, backward, average, AdamW.
Result time_steps(tg::Module& model, const std::function<Tensor()>& loss, int64_t local_count,
                  int repeats) {
  dist::broadcast_parameters(model);
  tg::AdamW optimizer(model.parameters(), {});
  dist::GradientAverager averager(model);
  // The barrier before the average separates waiting for the slower rank (load imbalance, a
  // busy machine) from the allreduce itself.
  double wait_seconds = 0;
  auto step = [&] {
    optimizer.zero_grad();
    loss().backward();
    const auto arrived = std::chrono::steady_clock::now();
    dist::barrier();
    wait_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - arrived).count();
    averager.average(local_count);
    optimizer.step();
  };
  for (int i = 0; i < 5; ++i) step();  // warm-up: allocator, thread pools, Adam's moments
  constexpr int steps_per_measurement = 10;
  std::vector<double> step_ms, wait_ms, allreduce_ms;
  for (int r = 0; r < repeats; ++r) {
    dist::barrier();
    const double allreduce_before = averager.allreduce_seconds(), wait_before = wait_seconds;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < steps_per_measurement; ++i) step();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    step_ms.push_back(1e3 * seconds / steps_per_measurement);
    allreduce_ms.push_back(1e3 * (averager.allreduce_seconds() - allreduce_before) /
                           steps_per_measurement);
    wait_ms.push_back(1e3 * (wait_seconds - wait_before) / steps_per_measurement);
  }
  // Rank 0's medians.
  return {median(step_ms), median(wait_ms), median(allreduce_ms),
          *std::min_element(allreduce_ms.begin(), allreduce_ms.end()), averager.bytes_per_step()};
}

void report(const char* name, int64_t global_batch, const Result& r) {
  if (!dist::is_main()) return;
  std::printf(
      "{\"name\": \"%s\", \"ranks\": %d, \"threads\": %d, \"global_batch\": %lld, "
      "\"step_ms\": %.3f, \"samples_per_s\": %.1f, \"wait_ms\": %.3f, \"allreduce_ms\": %.3f, "
      "\"allreduce_min_ms\": %.3f, "
      "\"allreduce_share\": %.4f, \"allreduce_bytes\": %zu}\n",
      name, dist::world_size(), tg::num_threads(), static_cast<long long>(global_batch), r.step_ms,
      1e3 * static_cast<double>(global_batch) / r.step_ms, r.wait_ms, r.allreduce_ms,
      r.allreduce_min_ms, r.allreduce_ms / r.step_ms, r.bytes);
  std::fflush(stdout);
}

int64_t local_share(int64_t global_batch) {
  // Rank r's share: global / R, the first global % R ranks one more.
  const int64_t ranks = dist::world_size(), base = global_batch / ranks;
  return base + (dist::rank() < global_batch % ranks ? 1 : 0);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1, repeats = 7;
  bool distributed = false;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--distributed")
      distributed = true;
    else if (flag == "--threads" && i + 1 < argc)
      threads = std::atoi(argv[++i]);
    else if (flag == "--repeats" && i + 1 < argc)
      repeats = std::atoi(argv[++i]);
    else if (flag == "--only" && i + 1 < argc)
      only = argv[++i];
    else {
      std::fprintf(stderr,
                   "usage: bench_distributed [--distributed] [--threads N] [--repeats N] "
                   "[--only fashion_mlp|g2p_transformer]\n");
      return 2;
    }
  }
  try {
    if (distributed) dist::init();
    tg::set_num_threads(std::max(1, threads));
    repeats = std::max(1, repeats);
    if (only.empty() || only == "fashion_mlp") {
      tg::Generator gen(1);
      FashionMlp model(gen);
      const int64_t global = 128, mine = local_share(global);
      tg::Generator data_gen(100 + static_cast<uint64_t>(dist::rank()));
      const Tensor images = tg::randn({mine, 784}, data_gen);
      std::vector<int32_t> labels(static_cast<size_t>(mine));
      for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<int32_t>(i % 10);
      const Tensor label_tensor = tg::from_vector(labels, {mine});
      report("fashion_mlp", global,
             time_steps(
                 model, [&] { return model.loss(images, label_tensor); }, mine, repeats));
    }
    if (only.empty() || only == "g2p_transformer") {
      tg::Generator gen(5);
      bench::G2PTransformer model(gen);
      const int64_t global = 64, mine = local_share(global);
      std::vector<int32_t> lengths(static_cast<size_t>(mine));
      for (size_t b = 0; b < lengths.size(); ++b) lengths[b] = 4 + static_cast<int32_t>(b % 7);
      tg::Generator data_gen(200 + static_cast<uint64_t>(dist::rank()));
      const Tensor source = random_ids(lengths, 10, 40, data_gen);
      const Tensor target_in = random_ids(lengths, 10, 43, data_gen);
      const Tensor target_out = random_ids(lengths, 10, 43, data_gen);
      const Tensor length_tensor = tg::from_vector(lengths, {mine});
      int64_t tokens = 0;
      for (int32_t length : lengths) tokens += length;
      report("g2p_transformer", global,
             time_steps(
                 model,
                 [&] {
                   return model.loss(source, length_tensor, target_in, length_tensor, target_out);
                 },
                 tokens, repeats));
    }
    return 0;
  } catch (const tg::Error& error) {
    dist::abort_job(std::string("bench_distributed: ") + error.what());
  }
}
