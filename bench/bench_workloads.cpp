// bench_workloads: whole training steps of the models people build with tapegrad, timed the
// same way as bench/compare_pytorch.py times them in PyTorch.
//
//   bench_workloads [--threads N] [--repeats N] [--device cpu|cuda] [--only NAME] [--json]
//                   [--clock wall|cpu] [--list]
//
// Each workload is one training step (forward, loss, backward, Adam step) unless its
// description says otherwise; the models are in bench/workload_models.h.
//
// Method (see measure()): a workload is built, then warmed up to steady state (at least 10
// steps and 1 s). The warm-up also sizes a measurement: enough steps to last about 50 ms, so
// timer resolution and per-call noise stay small for the tiny workloads. Then --repeats
// measurements; the figure is the median time per step, with the fastest and slowest
// measurement as its spread, which must sit within 20% of the median: if not, the measurements
// are taken again with twice as many steps each (up to 3 times; "spread_ok" says whether it got
// there). On a shared machine a wide spread means another process took the cores: run again. On a
// GPU the clock is read only after synchronize(): kernels run asynchronously, and a launch
// returning is not the work being done.
//
// Memory. peak_rss_mb is getrusage(RUSAGE_SELF).ru_maxrss when the workload has finished: the
// peak resident memory of the whole process so far. With --only NAME that is this workload
// alone (plus the program's baseline, a few MB); without it the peaks accumulate from one
// workload to the next. compare_pytorch.py runs one process per workload for clean figures,
// and measures PyTorch the same way. With --device cuda it is the host process's memory, not
// the GPU's.
#include <cblas.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_clock.h"
#include "bench/workload_models.h"
#include "framework/backend/cuda_status.h"
#include "optim/optim.h"

namespace {

using tg::Tensor;
using Step = std::function<void()>;

using bench::now_seconds;
using bench::seconds_since;

struct Timing {
  double median_ms = 0, min_ms = 0, max_ms = 0;
  int steps_per_measurement = 1;
  bool within_spread = false;  // min and max within kSpread of the median
};

// The spread a figure must reach: fastest and slowest measurement within 20% of the median.
constexpr double kSpread = 0.2;
constexpr int kMaxRounds = 4;  // each round doubles the steps per measurement

Timing measure_round(int repeats, int steps, const Step& step, tg::Backend& backend) {
  std::vector<double> samples;
  for (int r = 0; r < repeats; ++r) {
    const double start = now_seconds();
    for (int i = 0; i < steps; ++i) step();
    backend.synchronize();
    samples.push_back(seconds_since(start) / steps * 1e3);
  }
  std::sort(samples.begin(), samples.end());
  const size_t n = samples.size();
  Timing timing;
  timing.steps_per_measurement = steps;
  timing.median_ms = n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
  timing.min_ms = samples.front();
  timing.max_ms = samples.back();
  timing.within_spread = timing.min_ms >= (1 - kSpread) * timing.median_ms &&
                         timing.max_ms <= (1 + kSpread) * timing.median_ms;
  return timing;
}

// Steady state first: at least 10 steps and 1 s of warm-up (caches, the caching allocator's
// free lists, the thread pool, Adam's state). Then rounds of --repeats measurements, each
// measurement lasting about 50 ms; while the fastest or slowest is more than 20% from the
// median, the next round measures twice as many steps per measurement (longer measurements
// average out another process taking the core for a moment).
Timing measure(int repeats, const Step& step, tg::Device device) {
  tg::Backend& backend = tg::backend_for(device);
  const double warm_start = now_seconds();
  int warm_steps = 0;
  while (warm_steps < 10 || seconds_since(warm_start) < 1.0) {
    step();
    backend.synchronize();
    ++warm_steps;
  }
  const double seconds_per_step = seconds_since(warm_start) / warm_steps;
  int steps = std::max(1, static_cast<int>(std::lround(0.05 / seconds_per_step)));
  Timing timing;
  for (int round = 0; round < kMaxRounds; ++round, steps *= 2) {
    timing = measure_round(repeats, steps, step, backend);
    if (timing.within_spread) break;
  }
  return timing;
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // Linux reports kilobytes
}

// ---- data: fixed pseudo-random batches (std::mt19937, so every run sees the same numbers) ----

// Ids in [1, vocab) for the first lengths[b] positions of row b, pad 0 after.
Tensor padded_ids(const std::vector<int32_t>& lengths, int64_t len, int32_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> id(1, vocab - 1);
  std::vector<int32_t> values;
  for (int32_t length : lengths)
    for (int64_t t = 0; t < len; ++t) values.push_back(t < length ? id(rng) : 0);
  return tg::from_vector(values, {static_cast<int64_t>(lengths.size()), len});
}

Tensor class_labels(int64_t batch, int32_t classes) {
  std::vector<int32_t> values(batch);
  for (int64_t i = 0; i < batch; ++i) values[i] = static_cast<int32_t>((i * 7) % classes);
  return tg::from_vector(values, {batch});
}

// lengths[b] = low + b mod (high - low + 1): every length from low to high occurs.
std::vector<int32_t> cycling_lengths(int64_t batch, int32_t low, int32_t high) {
  std::vector<int32_t> lengths(batch);
  for (int64_t b = 0; b < batch; ++b) lengths[b] = low + static_cast<int32_t>(b % (high - low + 1));
  return lengths;
}

Tensor int_tensor(const std::vector<int32_t>& values) {
  return tg::from_vector(values, {static_cast<int64_t>(values.size())});
}

// A training step on device: zero the gradients, the loss, backward, Adam. The model and
// optimizer live as long as the step.
template <class Model, class Loss>
Step training_step(std::shared_ptr<Model> model, Loss loss, tg::Device device) {
  model->to(device);
  auto optimizer = std::make_shared<tg::Adam>(tg::ParamGroups(model->parameters()));
  return [model, optimizer, loss] {
    optimizer->zero_grad();
    const Tensor value = loss(*model);
    value.backward();
    optimizer->step();
    if (!std::isfinite(value.item())) tg::fail("bench_workloads: the loss is not finite");
  };
}

// ---- the workloads ----
// Each generator is static: a model keeps a reference to the generator it was built with (its
// dropout draws from it at every step), so it must outlive the Step that owns the model. A local
// one dangled, and the g2p_transformer step crashed (or, in the others, drew from freed stack).

Step mlp(tg::Device device) {
  static tg::Generator gen(1);
  const Tensor images = tg::randn({128, 784}, gen).to(device);
  const Tensor labels = class_labels(128, 10).to(device);
  return training_step(
      std::make_shared<bench::Mlp>(gen), [=](bench::Mlp& m) { return m.loss(images, labels); },
      device);
}

// Loss = mean(output * fixed random weights): a gradient that differs per element, so no
// part of backward can be skipped.
Step lstm(tg::Device device) {
  static tg::Generator gen(2);
  const Tensor x = tg::randn({32, 32, 64}, gen).to(device);
  const Tensor w = tg::randn({32, 32, 256}, gen).to(device);
  return training_step(
      std::make_shared<tg::LSTM>(64, 256, tg::LSTMOptions{}, gen),
      [=](tg::LSTM& m) { return (m(x).output * w).mean(); }, device);
}

Step mha(tg::Device device) {
  static tg::Generator gen(3);
  const Tensor x = tg::randn({32, 64, 128}, gen).to(device);
  const Tensor w = tg::randn({32, 64, 128}, gen).to(device);
  const Tensor lengths = int_tensor(cycling_lengths(32, 32, 64)).to(device);
  return training_step(
      std::make_shared<tg::MultiHeadAttention>(128, 8, tg::MultiHeadAttentionOptions{}, gen),
      [=](tg::MultiHeadAttention& m) { return (m(x, x, x, lengths).output * w).mean(); }, device);
}

Step g2p_lstm(tg::Device device) {
  static tg::Generator gen(4);
  const std::vector<int32_t> source_lengths = cycling_lengths(64, 4, 10);
  const std::vector<int32_t> target_lengths = cycling_lengths(64, 3, 9);
  const Tensor source = padded_ids(source_lengths, 10, 40, 11).to(device);
  const Tensor target_in = padded_ids(target_lengths, 9, 43, 12).to(device);
  const Tensor target_out = padded_ids(target_lengths, 9, 43, 13).to(device);
  const Tensor lengths = int_tensor(source_lengths).to(device);
  return training_step(
      std::make_shared<bench::G2PLSTM>(gen),
      [=](bench::G2PLSTM& m) { return m.loss(source, lengths, target_in, target_out); }, device);
}

Step g2p_transformer(tg::Device device) {
  static tg::Generator gen(5);
  const std::vector<int32_t> source_lengths = cycling_lengths(64, 4, 10);
  const std::vector<int32_t> target_lengths = cycling_lengths(64, 4, 10);
  const Tensor source = padded_ids(source_lengths, 10, 40, 21).to(device);
  const Tensor target_in = padded_ids(target_lengths, 10, 43, 22).to(device);
  const Tensor target_out = padded_ids(target_lengths, 10, 43, 23).to(device);
  const Tensor lengths = int_tensor(source_lengths).to(device);
  const Tensor out_lengths = int_tensor(target_lengths).to(device);
  return training_step(
      std::make_shared<bench::G2PTransformer>(gen),
      [=](bench::G2PTransformer& m) {
        return m.loss(source, lengths, target_in, out_lengths, target_out);
      },
      device);
}

Step fashion_attention(tg::Device device) {
  static tg::Generator gen(6);
  const Tensor images = tg::randn({128, 784}, gen).to(device);
  const Tensor labels = class_labels(128, 10).to(device);
  return training_step(
      std::make_shared<bench::VisionClassifier>(gen),
      [=](bench::VisionClassifier& m) { return m.loss(images, labels); }, device);
}

constexpr int tiny_chain = 1000;

// Forward and backward of x = x + y repeated on 8x8 tensors: 64 flops per op, so the time is
// the engine's bookkeeping (checks, allocation, the tape record, gradient routing).
Step tiny_ops(tg::Device device) {
  static tg::Generator gen(7);
  const Tensor y = tg::randn({8, 8}, gen).to(device).set_requires_grad();
  const Tensor start = tg::zeros({8, 8}, tg::DType::Float32, device);
  return [=] {
    y.zero_grad();
    Tensor x = start;
    for (int i = 0; i < tiny_chain; ++i) x = x + y;
    x.sum().backward();
  };
}

Step matmul(tg::Device device) {
  static tg::Generator gen(8);
  const Tensor a = tg::randn({1024, 1024}, gen).to(device);
  const Tensor b = tg::randn({1024, 1024}, gen).to(device);
  return [=] { (void)tg::matmul(a, b); };
}

// The same product straight through cblas_sgemm, the floor tg::matmul is measured against (on
// the CPU only).
Step matmul_blas(tg::Device) {
  static tg::Generator gen(8);
  auto a = std::make_shared<std::vector<float>>(tg::randn({1024, 1024}, gen).to_vector<float>());
  auto b = std::make_shared<std::vector<float>>(tg::randn({1024, 1024}, gen).to_vector<float>());
  auto c = std::make_shared<std::vector<float>>(1024 * 1024);
  return [=] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1024, 1024, 1024, 1.0f, a->data(), 1024,
                b->data(), 1024, 0.0f, c->data(), 1024);
  };
}

struct Workload {
  const char* name;
  const char* description;
  Step (*make)(tg::Device);
  Step (*make_reference)(tg::Device) = nullptr;  // matmul: the raw BLAS figure beside it
  int ops_per_step = 0;                          // tiny_ops: report the time per op too
};

const std::vector<Workload>& workloads() {
  static const std::vector<Workload> table = {
      {"mlp", "784-256-256-10 ReLU MLP, batch 128, cross-entropy, Adam", mlp},
      {"lstm", "LSTM 64->256, seq 32, batch 32, batch_first, Adam", lstm},
      {"mha", "MultiHeadAttention 128/8 heads, seq 64, batch 32, padding 32..64, Adam", mha},
      {"g2p_lstm", "BiLSTM 2x128 encoder + LSTMCell 256 attention decoder, batch 64, Adam",
       g2p_lstm},
      {"g2p_transformer", "Transformer 2+2 layers, d 128, 4 heads, ff 512, batch 64, Adam",
       g2p_transformer},
      {"fashion_attention",
       "ViT 16 patches + class token, d 64, 2 pre-norm layers, ff 256, batch 128",
       fashion_attention},
      {"tiny_ops", "1000 recorded 8x8 adds, forward + backward (no optimizer)", tiny_ops, nullptr,
       tiny_chain},
      {"matmul", "1024x1024 tg::matmul (no autograd), vs cblas_sgemm", matmul, matmul_blas},
  };
  return table;
}

void report(const Workload& w, const Timing& t, const Timing* reference, bool json,
            tg::Device device, int threads, int repeats) {
  if (json) {
    std::printf(
        "{\"name\": \"%s\", \"device\": \"%s\", \"median_ms\": %.4f, \"min_ms\": %.4f, "
        "\"max_ms\": %.4f, \"peak_rss_mb\": %.1f, \"threads\": %d, \"repeats\": %d, "
        "\"steps_per_measurement\": %d, \"spread_ok\": %s",
        w.name, tg::to_string(device), t.median_ms, t.min_ms, t.max_ms, peak_rss_mb(), threads,
        repeats, t.steps_per_measurement, t.within_spread ? "true" : "false");
    if (w.ops_per_step > 0)
      std::printf(", \"per_op_us\": %.3f", t.median_ms * 1e3 / w.ops_per_step);
    // The caching allocator's peaks (framework/storage.h): bytes held by live tensors, and bytes
    // obtained from the system, over the whole run.
    const tg::CachingAllocator::Stats memory =
        device == tg::Device::CPU ? tg::cpu_allocator_stats() : tg::cuda_allocator_stats();
    std::printf(", \"tensor_peak_mb\": %.1f, \"reserved_peak_mb\": %.1f",
                memory.peak_in_use_bytes / 1048576.0, memory.peak_reserved_bytes / 1048576.0);
    if (reference != nullptr)
      std::printf(", \"blas_median_ms\": %.4f, \"ratio_to_blas\": %.3f", reference->median_ms,
                  t.median_ms / reference->median_ms);
    std::printf("}\n");
  } else {
    std::printf("%-18s %10.3f %10.3f %10.3f %9.1f %s ", w.name, t.median_ms, t.min_ms, t.max_ms,
                peak_rss_mb(), t.within_spread ? " " : "!");
    if (w.ops_per_step > 0) std::printf("%.2f us/op (fwd+bwd)", t.median_ms * 1e3 / w.ops_per_step);
    if (reference != nullptr)
      std::printf("cblas_sgemm %.3f ms, tg/blas %.3f", reference->median_ms,
                  t.median_ms / reference->median_ms);
    std::printf("\n");
  }
  std::fflush(stdout);
}

void print_usage() {
  std::printf(
      "usage: bench_workloads [--threads N] [--repeats N] [--device D] [--only NAME] [--json] "
      "[--clock wall|cpu] [--list]\n"
      "  --threads N  threads for tapegrad's loops and OpenBLAS (default: current)\n"
      "  --repeats N  measurements per workload, median reported (default 11)\n"
      "  --device D   cpu (default) or cuda\n"
      "  --only NAME  run one workload (its peak RSS is then its own)\n"
      "  --json       one JSON object per workload per line\n"
      "  --clock C    wall (default) or cpu: the process's CPU time (meaningful at 1 thread)\n"
      "  --list       the workloads and what each one times\n");
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = 11, threads = 0;
  bool json = false;
  std::string only;
  tg::Device device = tg::Device::CPU;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      print_usage();
      return 0;
    } else if (flag == "--json") {
      json = true;
    } else if (flag == "--list") {
      for (const Workload& w : workloads()) std::printf("%-18s %s\n", w.name, w.description);
      return 0;
    } else if (flag == "--device" && i + 1 < argc) {
      const std::string name = argv[++i];
      const std::optional<tg::Device> named = tg::device_named(name);
      if (!named) {
        std::fprintf(stderr, "bench_workloads: --device: expected cpu or cuda, got '%s'\n",
                     name.c_str());
        return 2;
      }
      device = *named;
    } else if (flag == "--clock" && i + 1 < argc) {
      if (!bench::set_clock(argv[++i], "bench_workloads")) return 2;
    } else if (flag == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else if ((flag == "--threads" || flag == "--repeats") && i + 1 < argc) {
      const int value = std::atoi(argv[++i]);
      if (value < 1) {
        std::fprintf(stderr, "bench_workloads: %s needs a positive number\n", flag.c_str());
        return 2;
      }
      (flag == "--threads" ? threads : repeats) = value;
    } else {
      std::fprintf(stderr, "bench_workloads: unknown flag or missing value: %s\n", flag.c_str());
      print_usage();
      return 2;
    }
  }
  const auto& table = workloads();
  if (!only.empty() &&
      std::none_of(table.begin(), table.end(), [&](const Workload& w) { return only == w.name; })) {
    std::fprintf(stderr, "bench_workloads: no workload named '%s' (see --list)\n", only.c_str());
    return 2;
  }
  try {
    if (threads > 0) tg::set_num_threads(threads);
    threads = tg::num_threads();
    if (!json) {
      std::printf(
          "bench_workloads: %s, %d CPU thread(s), median of %d measurements after a warm-up\n",
          tg::to_string(device), threads, repeats);
      std::printf("%-18s %10s %10s %10s %9s\n", "workload", "median ms", "min ms", "max ms",
                  "peak MB");
    }
    for (const Workload& w : table) {
      if (!only.empty() && only != w.name) continue;
      const Timing timing = measure(repeats, w.make(device), device);
      if (w.make_reference != nullptr && device == tg::Device::CPU) {
        const Timing reference = measure(repeats, w.make_reference(device), device);
        report(w, timing, &reference, json, device, threads, repeats);
      } else {
        report(w, timing, nullptr, json, device, threads, repeats);
      }
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_workloads: %s\n", error.what());
    return 1;
  }
  return 0;
}
