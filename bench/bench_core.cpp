// bench_core: how fast the engine's core paths run, and what they cost over the raw library.
//
//   bench_core [--threads N] [--repeats N] [--clock wall|cpu]
//
// (a) matmul: N x N x N products through tg::matmul against cblas_sgemm on the same numbers,
//     in GFLOP/s (2 N^3 flops per product); the ratio is the engine's overhead on big work.
// (b) per-op overhead: a chain of 1000 recorded 8 x 8 adds, x = x + y with y requiring grad,
//     then backward. The arithmetic is 64 adds per op, so the time is almost all bookkeeping:
//     checks, allocation, the tape record, and in backward the gradient routing.
// (c) a training step of a 784-256-256-10 ReLU MLP at batch 128 as a model writes it
//     (tg::linear, tg::SGD): forward, cross-entropy, backward and a plain SGD update, the shape
//     of an MNIST step. Its eight matrix products
//     are also timed alone through cblas_sgemm, in alternation with the step (time_paired): the
//     step's matmul flops over the whole step's time, as a share of the raw sgemm rate, is how much
//     of the machine the step uses.
// (d) small products: attention's per-head shapes (64 x 64 x 16 and 64 x 16 x 64, with the
//     transposes its forward and backward use; heads of 8; and the G2P Transformer's 10 x 10
//     x 32), 256 of them (batch 32 x 8 heads) per measurement, through the engine's small_gemm
//     against cblas_sgemm on the same numbers, the two in alternation. Above kSmallGemmLimit the
//     engine calls OpenBLAS itself.
// The header names the kernel OpenBLAS chose (openblas_get_corename) and OPENBLAS_CORETYPE.
//
// Every figure is the median of --repeats measurements after a warm-up, so one slow outlier
// (another process, a page fault) does not move it. On a machine shared with other work, run it
// twice: contention shows up as numbers that disagree.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "bench/bench_clock.h"
#include "framework/backend/cpu/cpu_small_gemm.h"
#include "framework/tapegrad.h"
#include "optim/sgd.h"

namespace {

using bench::now_seconds;
using bench::seconds_since;

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

// Runs body `iterations` times per measurement, `repeats` measurements after one warm-up
// measurement; returns the median seconds per iteration.
double time_per_iteration(int repeats, int iterations, const std::function<void()>& body) {
  for (int i = 0; i < iterations; ++i) body();  // warm-up: caches, allocator, thread pool
  std::vector<double> samples;
  for (int r = 0; r < repeats; ++r) {
    const double start = now_seconds();
    for (int i = 0; i < iterations; ++i) body();
    samples.push_back(seconds_since(start) / iterations);
  }
  return median(samples);
}

// Two bodies timed in alternation, one measurement of each per repeat, and the median of each:
// for the figures that are a ratio of two timings, so that a burst of load on a shared machine
// falls on both sides instead of on whichever happened to run then.
struct PairedTimes {
  double first, second;  // seconds per iteration
};
PairedTimes time_paired(int repeats, int iterations, const std::function<void()>& first,
                        const std::function<void()>& second) {
  for (int i = 0; i < iterations; ++i) first(), second();  // warm-up
  std::vector<double> first_samples, second_samples;
  for (int r = 0; r < repeats; ++r) {
    for (auto [body, samples] : {std::pair{&first, &first_samples}, {&second, &second_samples}}) {
      const double start = now_seconds();
      for (int i = 0; i < iterations; ++i) (*body)();
      samples->push_back(seconds_since(start) / iterations);
    }
  }
  return {median(first_samples), median(second_samples)};
}

void bench_matmul(int repeats) {
  std::printf("\n(a) square matmul C = A B, float32, GFLOP/s (2 N^3 flops), higher is better\n");
  std::printf("  %6s  %14s  %14s  %10s\n", "N", "tg::matmul", "cblas_sgemm", "tg / blas");
  tg::Generator gen(1);
  for (int n : {256, 512, 1024, 2048}) {
    const tg::Tensor a = tg::randn({n, n}, gen), b = tg::randn({n, n}, gen);
    const std::vector<float> raw_a = a.to_vector<float>(), raw_b = b.to_vector<float>();
    std::vector<float> raw_c(static_cast<size_t>(n) * n);
    const double flops = 2.0 * n * n * n;
    // Enough products per measurement to last ~1 GFLOP, so timer resolution does not matter.
    const int iterations = std::max(1, static_cast<int>(1e9 / flops));

    const double engine = time_per_iteration(repeats, iterations, [&] {
      const tg::Tensor c = tg::matmul(a, b);
      (void)c;
    });
    const double blas = time_per_iteration(repeats, iterations, [&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, raw_a.data(), n,
                  raw_b.data(), n, 0.0f, raw_c.data(), n);
    });
    std::printf("  %6d  %14.1f  %14.1f  %10.3f\n", n, flops / engine * 1e-9, flops / blas * 1e-9,
                blas / engine);
  }
}

void bench_small_products(int repeats) {
  std::printf("\n(d) small products, 256 per measurement (batch 32 x 8 heads), GFLOP/s\n");
  std::printf("  %-22s  %12s  %12s  %10s\n", "op(A) op(B): m x n x k", "small_gemm", "cblas_sgemm",
              "small/blas");
  struct Shape {
    const char* name;
    bool trans_a, trans_b;
    int m, n, k;
  };
  const Shape shapes[] = {{"q k^T      64x64x16", false, true, 64, 64, 16},
                          {"w v        64x16x64", false, false, 64, 16, 64},
                          {"g v^T      64x64x16", false, true, 64, 64, 16},
                          {"w^T g      64x16x64", true, false, 64, 16, 64},
                          {"g_s q      64x16x64", false, false, 64, 16, 64},
                          {"g_s^T k    64x16x64", true, false, 64, 16, 64},
                          {"q k^T      64x64x8", false, true, 64, 64, 8},
                          {"q k^T      10x10x32", false, true, 10, 10, 32},
                          {"w v        10x32x10", false, false, 10, 32, 10},
                          {"w^T g      10x32x10", true, false, 10, 32, 10}};
  constexpr int kProducts = 256;
  tg::Generator gen(2);
  for (const Shape& s : shapes) {
    const int lda = s.trans_a ? s.m : s.k, ldb = s.trans_b ? s.k : s.n;
    const std::vector<float> a = tg::randn({kProducts * s.m * s.k}, gen).to_vector<float>();
    const std::vector<float> b = tg::randn({kProducts * s.k * s.n}, gen).to_vector<float>();
    std::vector<float> c(static_cast<size_t>(kProducts) * s.m * s.n);
    const auto run = [&](bool ours) {
      for (int i = 0; i < kProducts; ++i) {
        const float* pa = a.data() + static_cast<size_t>(i) * s.m * s.k;
        const float* pb = b.data() + static_cast<size_t>(i) * s.k * s.n;
        float* pc = c.data() + static_cast<size_t>(i) * s.m * s.n;
        if (ours)
          tg::small_gemm(s.trans_a, s.trans_b, s.m, s.n, s.k, 1.0f, pa, lda, pb, ldb, 0.0f, pc,
                         s.n);
        else
          cblas_sgemm(CblasRowMajor, s.trans_a ? CblasTrans : CblasNoTrans,
                      s.trans_b ? CblasTrans : CblasNoTrans, s.m, s.n, s.k, 1.0f, pa, lda, pb, ldb,
                      0.0f, pc, s.n);
      }
    };
    const double flops = 2.0 * kProducts * s.m * s.n * s.k;
    const PairedTimes times = time_paired(
        repeats, 20, [&] { run(true); }, [&] { run(false); });
    const double ours = times.first, blas = times.second;
    std::printf("  %-22s  %12.1f  %12.1f  %10.2f\n", s.name, flops / ours * 1e-9,
                flops / blas * 1e-9, ours / blas);
  }
}

void bench_op_overhead(int repeats) {
  constexpr int chain = 1000;
  std::printf("\n(b) per-op overhead: %d recorded 8x8 adds (x = x + y), then backward\n", chain);
  tg::Generator gen(2);
  const tg::Tensor y = tg::randn({8, 8}, gen).set_requires_grad();
  const tg::Tensor start = tg::zeros({8, 8});
  std::vector<double> forward_samples, backward_samples;
  for (int r = 0; r < repeats + 1; ++r) {  // the first round is the warm-up
    y.zero_grad();
    const double forward_start = now_seconds();
    tg::Tensor x = start;
    for (int i = 0; i < chain; ++i) x = x + y;
    const tg::Tensor loss = x.sum();
    const double forward = seconds_since(forward_start);
    const double backward_start = now_seconds();
    loss.backward();
    const double backward = seconds_since(backward_start);
    if (r > 0) {
      forward_samples.push_back(forward);
      backward_samples.push_back(backward);
    }
  }
  // d(sum x)/dy = chain for every element: a cheap check that the work really happened.
  const float grad = y.grad().to_vector<float>()[0];
  if (grad != static_cast<float>(chain)) {
    std::fprintf(stderr, "bench_core: wrong gradient %g, expected %d\n", grad, chain);
    std::exit(1);
  }
  const double forward = median(forward_samples) / chain * 1e6;
  const double backward = median(backward_samples) / chain * 1e6;
  std::printf("  %-28s %8.2f us/op\n", "forward (op + tape record)", forward);
  std::printf("  %-28s %8.2f us/op\n", "backward", backward);
  std::printf("  %-28s %8.2f us/op\n", "forward + backward", forward + backward);
}

void bench_mlp_step(int repeats) {
  constexpr int batch = 128;
  std::printf("\n(c) MLP 784-256-256-10 (ReLU) training step, batch %d, tg::linear + tg::SGD\n",
              batch);
  tg::Generator gen(3);
  const tg::Tensor images = tg::randn({batch, 784}, gen);
  std::vector<int32_t> label_values(batch);
  for (int i = 0; i < batch; ++i) label_values[i] = (i * 7) % 10;
  const tg::Tensor labels = tg::from_vector(label_values, {batch});

  // As a model writes it: Linear's product (tg::linear: x W^T + b in one gemm, W [out, in]),
  // and the optimizer's fused update.
  auto weight = [&](int in, int out) {
    return tg::randn({out, in}, gen, 0.0f, std::sqrt(2.0f / in)).set_requires_grad();
  };
  auto bias = [](int out) { return tg::zeros({out}).set_requires_grad(); };
  std::vector<tg::Tensor> params = {
      weight(784, 256), bias(256),  // layer 1
      weight(256, 256), bias(256),  // layer 2
      weight(256, 10),  bias(10),   // output
  };
  tg::SGD optimizer(params, {.lr = 0.01});
  float last_loss = 0;
  auto step = [&] {
    optimizer.zero_grad();
    tg::Tensor h = tg::relu(tg::linear(images, params[0], params[1]));
    h = tg::relu(tg::linear(h, params[2], params[3]));
    const tg::Tensor loss = tg::cross_entropy(tg::linear(h, params[4], params[5]), labels);
    loss.backward();
    last_loss = loss.item();
    optimizer.step();
  };
  // The same products alone. Per layer x [B, in] W [out, in]: forward x W^T, the weight
  // gradient dy^T x, and (not for the first layer, whose input needs no gradient) the input
  // gradient dy W. Row-major sgemm: C [m, n] = op(A) [m, k] op(B) [k, n].
  struct Product {
    int m, n, k;
    CBLAS_TRANSPOSE a, b;
  };
  std::vector<Product> products;
  const int sizes[] = {784, 256, 256, 10};
  for (int layer = 0; layer < 3; ++layer) {
    const int in = sizes[layer], out = sizes[layer + 1];
    products.push_back({batch, out, in, CblasNoTrans, CblasTrans});                   // x W^T
    products.push_back({out, in, batch, CblasTrans, CblasNoTrans});                   // dy^T x
    if (layer > 0) products.push_back({batch, in, out, CblasNoTrans, CblasNoTrans});  // dy W
  }
  double flops = 0;
  std::vector<float> a(784 * 256, 0.5f), b(784 * 256, 0.25f), c(784 * 256);
  for (const Product& p : products) flops += 2.0 * p.m * p.n * p.k;
  const auto products_alone = [&] {
    for (const Product& p : products) {
      const int lda = p.a == CblasNoTrans ? p.k : p.m, ldb = p.b == CblasNoTrans ? p.n : p.k;
      cblas_sgemm(CblasRowMajor, p.a, p.b, p.m, p.n, p.k, 1.0f, a.data(), lda, b.data(), ldb, 0.0f,
                  c.data(), p.n);
    }
  };
  const PairedTimes times = time_paired(repeats, 10, step, products_alone);
  const double seconds = times.first, sgemm_seconds = times.second;
  std::printf("  %-28s %8.3f ms/step  (loss %.3f)\n", "forward+backward+update", seconds * 1e3,
              last_loss);
  std::printf("  %-28s %8.3f ms       (%zu products, %.1f GFLOP/s)\n", "its products, raw sgemm",
              sgemm_seconds * 1e3, products.size(), flops / sgemm_seconds * 1e-9);
  std::printf("  %-28s %8.1f %%       (matmul flops / step time, over the raw sgemm rate)\n",
              "share of the sgemm rate", 100.0 * sgemm_seconds / seconds);
}

void print_usage() {
  std::printf(
      "usage: bench_core [--threads N] [--repeats N] [--clock wall|cpu]\n"
      "  --threads N  threads for tapegrad's loops and OpenBLAS (default: current)\n"
      "  --repeats N  measurements per figure, median reported (default 7)\n"
      "  --clock C    wall (default) or cpu: the process's CPU time (meaningful at 1 thread)\n");
}

}  // namespace

// Which sgemm kernel OpenBLAS runs: its run-time choice (the corename) follows the CPU unless
// OPENBLAS_CORETYPE names an older core, which some machines set because old OpenBLAS builds
// crash on new CPUs. A Haswell kernel on an AVX-512 CPU uses half the vector width, and the
// sgemm figures below are that kernel's.
static void print_blas_kernel() {
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  std::printf("OpenBLAS kernel: %s (OPENBLAS_CORETYPE=%s); build: %s\n", openblas_get_corename(),
              coretype != nullptr ? coretype : "(unset)", openblas_get_config());
}

int main(int argc, char** argv) {
  int repeats = 7, threads = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      print_usage();
      return 0;
    }
    if (flag == "--clock" && i + 1 < argc) {
      if (!bench::set_clock(argv[++i], "bench_core")) return 2;
    } else if ((flag == "--threads" || flag == "--repeats") && i + 1 < argc) {
      const int value = std::atoi(argv[++i]);
      if (value < 1) {
        std::fprintf(stderr, "bench_core: %s needs a positive number\n", flag.c_str());
        return 2;
      }
      (flag == "--threads" ? threads : repeats) = value;
    } else {
      std::fprintf(stderr, "bench_core: unknown flag or missing value: %s\n", flag.c_str());
      print_usage();
      return 2;
    }
  }
  try {
    if (threads > 0) tg::set_num_threads(threads);
    std::printf("bench_core: %d thread(s), median of %d repeats after a warm-up\n",
                tg::num_threads(), repeats);
    print_blas_kernel();
    bench_matmul(repeats);
    bench_op_overhead(repeats);
    bench_mlp_step(repeats);
    bench_small_products(repeats);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_core: %s\n", error.what());
    return 1;
  }
  return 0;
}
