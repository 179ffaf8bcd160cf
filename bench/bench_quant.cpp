// bench_quant: the int8 matrix product of quantized inference against float sgemm, on the shapes
// of the example models' Linear layers.
//
//   bench_quant [--threads N] [--repeats N]      (default: 1 thread)
//
// For each layer (in -> out) and batch of rows M, the median time of:
//   sgemm        cblas_sgemm of x [M, in] by W^T (W [out, in]), as tg::linear calls it
//   int8 gemm    int8_gemm_nt on x and W already in int8 (the kernel alone)
//   linear       tg::linear(x, W, b): the float layer
//   int8 dynamic tg::linear_int8(..., Dynamic): x's rows quantized, int8 product, rescaled
//   int8 weight  tg::linear_int8(..., Float): W dequantized, then sgemm (weight-only)
// and the speed-ups (above 1: int8 is faster) sgemm / int8 gemm, linear / dynamic and
// linear / weight-only. The figures being compared are timed in turns, each speed-up the median
// of the ratios of one turn, in CPU time (see cpu_seconds).
// The header names the int8 kernel the CPU runs and OpenBLAS's kernel.
#include <cblas.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "framework/backend/cpu/int8_gemm.h"
#include "framework/backend/quantized_kernels.h"
#include "framework/tapegrad.h"

namespace {

// CPU seconds of the process: on a machine busy with other work, wall time counts the slices
// other processes take, CPU time does not (with one thread, as bench_quant runs by default).
double cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Seconds per call of each body, measured in turns: every repeat times each body once (about
// 20 ms of calls) before the next repeat, so that a busy machine slows all of them alike. Returns
// each body's median and the median over repeats of the ratio of body 0's time to each body's.
struct Timings {
  std::vector<double> seconds, speedup_over_first;
};
Timings timed_in_turns(int repeats, const std::vector<std::function<void()>>& bodies) {
  std::vector<int> calls;
  for (const auto& body : bodies) {
    const double start = cpu_seconds();
    body();
    const double once = std::max(1e-7, cpu_seconds() - start);
    calls.push_back(std::max(1, static_cast<int>(0.02 / once)));
    for (int i = 0; i < calls.back(); ++i) body();  // warm-up
  }
  std::vector<std::vector<double>> samples(bodies.size()), ratios(bodies.size());
  for (int r = 0; r < repeats; ++r) {
    for (size_t b = 0; b < bodies.size(); ++b) {
      const double begin = cpu_seconds();
      for (int i = 0; i < calls[b]; ++i) bodies[b]();
      samples[b].push_back((cpu_seconds() - begin) / calls[b]);
    }
    for (size_t b = 0; b < bodies.size(); ++b)
      ratios[b].push_back(samples[0].back() / samples[b].back());
  }
  Timings out;
  for (size_t b = 0; b < bodies.size(); ++b) {
    out.seconds.push_back(median(samples[b]));
    out.speedup_over_first.push_back(median(ratios[b]));
  }
  return out;
}

struct Layer {
  const char* model;
  int64_t in, out;
};

void bench_layer(const Layer& layer, int64_t m, int repeats) {
  tg::Generator gen(1);
  const tg::Tensor x = tg::randn({m, layer.in}, gen), w = tg::randn({layer.out, layer.in}, gen),
                   b = tg::randn({layer.out}, gen);
  const tg::Int8Matrix q = tg::quantize_per_row(w);
  std::vector<float> c(static_cast<size_t>(m * layer.out));
  const int64_t stride = tg::int8_row_stride(layer.in);
  std::vector<int8_t> qx(static_cast<size_t>(m * stride));
  for (int64_t i = 0; i < m; ++i)
    tg::quantize_row(x.data<float>() + i * layer.in, layer.in, qx.data() + i * stride, stride);
  const auto* qw = reinterpret_cast<const int8_t*>(q.values.data<int32_t>());
  std::vector<int32_t> acc(static_cast<size_t>(m * layer.out));
  const int mi = static_cast<int>(m), n = static_cast<int>(layer.out),
            k = static_cast<int>(layer.in);

  tg::NoGradGuard inference;
  const Timings kernels = timed_in_turns(
      repeats, {[&] {
                  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, mi, n, k, 1.0f,
                              x.data<float>(), k, w.data<float>(), k, 0.0f, c.data(), n);
                },
                [&] { tg::int8_gemm_nt(m, layer.out, stride, qx.data(), qw, acc.data()); }});
  const Timings layers = timed_in_turns(
      repeats, {[&] { (void)tg::linear(x, w, b); },
                [&] { (void)tg::linear_int8(x, q, b, tg::Int8Activations::Dynamic); },
                [&] { (void)tg::linear_int8(x, q, b, tg::Int8Activations::Float); }});
  const double sgemm = kernels.seconds[0], int8 = kernels.seconds[1];
  const double gops = 2.0 * static_cast<double>(m * layer.in * layer.out) * 1e-9;
  std::printf(
      "  %-16s %4lld x %-4lld %5lld | %7.1f %7.1f %6.2fx | %8.1f %8.1f %8.1f %6.2fx %6.2fx\n",
      layer.model, static_cast<long long>(layer.in), static_cast<long long>(layer.out),
      static_cast<long long>(m), gops / sgemm, gops / int8, kernels.speedup_over_first[1],
      layers.seconds[0] * 1e6, layers.seconds[1] * 1e6, layers.seconds[2] * 1e6,
      layers.speedup_over_first[1], layers.speedup_over_first[2]);
}

void print_usage() {
  std::printf(
      "usage: bench_quant [--threads N] [--repeats N]\n"
      "  --threads N  threads for tapegrad's loops and OpenBLAS (default 1: CPU time is then\n"
      "               the time of the work)\n"
      "  --repeats N  measurements per figure, the median is printed (default 7)\n");
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = 7, threads = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      print_usage();
      return 0;
    }
    if ((flag == "--threads" || flag == "--repeats") && i + 1 < argc &&
        std::atoi(argv[i + 1]) > 0) {
      (flag == "--threads" ? threads : repeats) = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "bench_quant: unknown flag or missing positive value: %s\n",
                   flag.c_str());
      print_usage();
      return 2;
    }
  }
  try {
    if (threads > 0) tg::set_num_threads(threads);
    const char* coretype = std::getenv("OPENBLAS_CORETYPE");
    std::printf(
        "bench_quant: %d thread(s), median of %d; int8 kernel %s; OpenBLAS kernel %s "
        "(OPENBLAS_CORETYPE=%s)\n",
        tg::num_threads(), repeats, tg::to_string(tg::best_int8_kernel()), openblas_get_corename(),
        coretype ? coretype : "unset");
    std::printf("  %-16s %-11s %5s | %7s %7s %7s | %8s %8s %8s %7s %7s\n", "layer of", "in x out",
                "M", "sgemm", "int8", "speed", "linear", "dynamic", "weight", "speed", "speed");
    std::printf("  %-16s %-11s %5s | %7s %7s %7s | %8s %8s %8s %7s %7s\n", "", "", "", "GOP/s",
                "GOP/s", "-up", "us", "us", "us", "dyn.", "weight");
    const Layer layers[] = {{"fashion_mlp", 784, 512},     {"fashion_mlp", 512, 256},
                            {"fashion_mlp", 256, 10},      {"g2p_transformer", 128, 128},
                            {"g2p_transformer", 128, 512}, {"g2p_transformer", 512, 128}};
    for (const Layer& layer : layers) {
      const bool fashion = std::string(layer.model) == "fashion_mlp";
      // Fashion: one image, a training batch, an evaluation batch; G2P: a batch's tokens.
      for (int64_t m :
           fashion ? std::vector<int64_t>{1, 128, 1000} : std::vector<int64_t>{640, 2048})
        bench_layer(layer, m, repeats);
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_quant: %s\n", error.what());
    return 1;
  }
  return 0;
}
