// Full against local (windowed) attention as the sequence grows: step time and peak memory of a
// MultiHeadAttention layer (d_model 128, 8 heads, batch 1) for L = 256, 1024, 4096, full and
// with window w = 32.
//
//   bench_local_attention [--threads N] [--repeats N] [--window W] [--png PATH] [--csv PATH]
//
// A step is forward + backward of sum(output * r) (r fixed random), self-attention over
// x [1, L, 128], no optimizer. Time: the median of --repeats steps after two warm-up steps, as
// process CPU time (the table and PNG; robust on a shared machine) and as wall clock. Memory: the
// CPU caching allocator's peak of bytes held by live tensors during one step, minus what was held
// before it (the layer's weights and the input), so it counts the step's own activations, saved
// tensors and gradients; not the process's RSS.
//
// Full attention computes scores, weights and their gradients as [8, L, L]: time and memory go
// as L^2 once they dominate the projections. Local attention keeps them as bands [8, L, 2w+1]:
// both go as L. The log-log slopes over the last two lengths say which, and the PNG draws them.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "examples/reporting/colormap.h"
#include "examples/reporting/heatmap.h"
#include "examples/reporting/plot.h"
#include "framework/tapegrad.h"
#include "layers/multi_head_attention.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Measurement {
  int64_t len = 0, window = 0;  // window 0: full attention
  double median_ms = 0, median_cpu_ms = 0, peak_mib = 0;
};

// CPU time of the whole process: with one thread, the time the step really computed, which a
// busy machine inflates much less than the wall clock (it still shares caches and memory).
double process_cpu_ms() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return now.tv_sec * 1e3 + now.tv_nsec * 1e-6;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

std::string load_average() {
  std::ifstream file("/proc/loadavg");
  double one = 0;
  file >> one;
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", one);
  return text;
}

Measurement measure(int64_t len, int64_t window, int repeats) {
  constexpr int64_t kModel = 128, kHeads = 8;
  tg::Generator gen(0);
  tg::MultiHeadAttentionOptions options;
  options.window = window;
  tg::MultiHeadAttention mha(kModel, kHeads, options, gen);
  const tg::Tensor x = tg::randn({1, len, kModel}, gen).set_requires_grad();
  const tg::Tensor r = tg::randn({1, len, kModel}, gen);
  auto step = [&] {
    (mha(x, x, x).output * r).sum().backward();
    mha.zero_grad();
  };
  step();
  step();  // warm: the caching allocator holds every block a step needs

  tg::cpu_reset_peaks();
  const size_t before = tg::cpu_allocator_stats().in_use_bytes;
  step();
  const size_t peak = tg::cpu_allocator_stats().peak_in_use_bytes - before;

  std::vector<double> wall, cpu;
  for (int i = 0; i < repeats; ++i) {
    const auto start = Clock::now();
    const double cpu_start = process_cpu_ms();
    step();
    cpu.push_back(process_cpu_ms() - cpu_start);
    wall.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  return {len, window, median(wall), median(cpu), static_cast<double>(peak) / (1 << 20)};
}

// Least-squares slope of log y against log x: the exponent k of y ~ x^k.
double log_log_slope(const std::vector<double>& x, const std::vector<double>& y) {
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) mx += std::log(x[i]), my += std::log(y[i]);
  mx /= x.size(), my /= y.size();
  double sxy = 0, sxx = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (std::log(x[i]) - mx) * (std::log(y[i]) - my);
    sxx += (std::log(x[i]) - mx) * (std::log(x[i]) - mx);
  }
  return sxy / sxx;
}

// The log-log slope of one figure over L >= 1024, where the attention core outweighs the
// projections: about 2 for what grows as L^2, 1 for what grows as L.
double slope_of(const std::vector<Measurement>& rows, bool local, double Measurement::*figure) {
  std::vector<double> x, y;
  for (const Measurement& m : rows)
    if ((m.window != 0) == local && m.len >= 1024) x.push_back(m.len), y.push_back(m.*figure);
  return log_log_slope(x, y);
}

// One panel: log2 L across, log2 of the figure up, full and local, slopes in the legend.
tg::Image panel(const std::vector<Measurement>& rows, double Measurement::*figure,
                const std::string& title, const std::string& y_label, int64_t window) {
  auto name = [&](const std::string& what, bool local) {
    char slope[32];
    std::snprintf(slope, sizeof slope, " (slope %.2f)", slope_of(rows, local, figure));
    return what + slope;
  };
  tg::Series full{name("full", false), {}, {}, tg::categorical_color(0)};
  tg::Series local{
      name("local w=" + std::to_string(window), true), {}, {}, tg::categorical_color(1)};
  for (const Measurement& m : rows) {
    tg::Series& series = m.window == 0 ? full : local;
    series.x.push_back(std::log2(static_cast<double>(m.len)));
    series.y.push_back(std::log2(m.*figure));
  }
  return tg::line_plot({full, local}, {.title = title, .x_label = "log2 L", .y_label = y_label});
}

int usage(const char* problem) {
  std::fprintf(stderr,
               "bench_local_attention: %s\n"
               "usage: bench_local_attention [--threads N] [--repeats N] [--window W] [--png "
               "PATH] [--csv PATH]\n",
               problem);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = 7, threads = 1;
  int64_t window = 32;
  std::string png, csv;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) return usage(("missing value after " + flag).c_str());
    const std::string value = argv[++i];
    if (flag == "--threads")
      threads = std::atoi(value.c_str());
    else if (flag == "--repeats")
      repeats = std::atoi(value.c_str());
    else if (flag == "--window")
      window = std::atoll(value.c_str());
    else if (flag == "--png")
      png = value;
    else if (flag == "--csv")
      csv = value;
    else
      return usage(("unknown flag " + flag).c_str());
  }
  if (threads < 1 || repeats < 1 || window < 1) return usage("--threads, --repeats, --window >= 1");
  tg::set_num_threads(threads);
  const std::string load_before = load_average();

  std::vector<Measurement> rows;
  for (int64_t len : {256, 1024, 4096})
    for (int64_t w : {int64_t{0}, window}) rows.push_back(measure(len, w, repeats));

  std::printf("%d thread(s), median of %d steps; load average %s before, %s after\n\n", threads,
              repeats, load_before.c_str(), load_average().c_str());
  std::printf(
      "| L | full: step ms (CPU) | local: step ms (CPU) | full: wall ms | local: wall ms | full: "
      "peak MiB | local: peak MiB |\n|---:|---:|---:|---:|---:|---:|---:|\n");
  for (size_t i = 0; i + 1 < rows.size(); i += 2) {
    const Measurement &full = rows[i], &local = rows[i + 1];
    std::printf("| %lld | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n",
                static_cast<long long>(full.len), full.median_cpu_ms, local.median_cpu_ms,
                full.median_ms, local.median_ms, full.peak_mib, local.peak_mib);
  }
  auto slope = [&](bool local, double Measurement::*figure) {
    return slope_of(rows, local, figure);
  };
  std::printf("| log-log slope, L 1024..4096 | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n",
              slope(false, &Measurement::median_cpu_ms), slope(true, &Measurement::median_cpu_ms),
              slope(false, &Measurement::median_ms), slope(true, &Measurement::median_ms),
              slope(false, &Measurement::peak_mib), slope(true, &Measurement::peak_mib));

  if (!csv.empty()) {
    std::ofstream out(csv);
    out << "len,window,median_cpu_ms,median_wall_ms,peak_mib\n";
    for (const Measurement& m : rows)
      out << m.len << "," << m.window << "," << m.median_cpu_ms << "," << m.median_ms << ","
          << m.peak_mib << "\n";
  }
  if (!png.empty()) {
    const tg::Image time = panel(rows, &Measurement::median_cpu_ms,
                                 "step CPU time, forward + backward", "log2 ms", window);
    const tg::Image memory =
        panel(rows, &Measurement::peak_mib, "peak tensor memory", "log2 MiB", window);
    tg::image_grid({time, memory}, 2, 8).save_png(png);
  }
  return 0;
}
