// The kernels that pick a launch by shape, on both sides of every threshold, against the CPU:
//   - softmax, log-softmax, layer norm and cross-entropy take a warp per row up to
//     cuda::kWarpRowMaxLength = 1024 elements and a block per longer row;
//   - reductions take a thread per row below 32 elements, a warp per row up to 1024, a block per
//     longer row, and split few long reductions (a full sum, a column sum over many rows) into
//     pieces reduced in two or more passes;
//   - elementwise ops index flat where every input is same-shaped or one value, and through
//     per-dim strides where one broadcasts along a dim.
// 70 rows: more than the emulator's 8 blocks (block per row) and 8 x 8 warps (warp per row), so
// every row loop loops there. On the emulator each case also checks which launch ran, by name.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "framework/tapegrad.h"
#include "parity_checks.h"

#if defined(TAPEGRAD_CUDA_EMULATOR)
#include <cuda_runtime.h>  // the emulator's, with cuda_emulator::launches
#endif

namespace tg {
namespace {

using testing::check_matches;
using testing::weighted_sum;

constexpr int64_t kRows = 70;

// Runs f on a CPU copy and a CUDA copy of uniform inputs in [-2, 2] of the given shapes, forward
// and backward on a weighted sum, and requires the outputs and the inputs' gradients to match.
// On the emulator, also that the kernel named `launch` ran.
template <class F>
void check_case(const std::string& what, const std::vector<Shape>& shapes, const char* launch,
                F f) {
  INFO(what);
#if defined(TAPEGRAD_CUDA_EMULATOR)
  const size_t launches_before = cuda_emulator::launches(launch);
#else
  (void)launch;
#endif
  Generator gen(7);
  std::vector<Tensor> cpu, gpu;
  for (const Shape& shape : shapes) {
    const Tensor x = uniform(shape, -2.0f, 2.0f, gen);
    cpu.push_back(x.clone().set_requires_grad());
    gpu.push_back(x.to(Device::CUDA).set_requires_grad());
  }
  // Each device's forward and backward in turn: backward() consumes everything recorded.
  auto forward_backward = [&](const std::vector<Tensor>& inputs) {
    const Tensor y = f(inputs);
    if (y.requires_grad()) weighted_sum(y, 3).backward();
    return y;
  };
  const Tensor y_cpu = forward_backward(cpu), y_gpu = forward_backward(gpu);
  check_matches(y_cpu, y_gpu, what + ": forward");
  for (size_t i = 0; i < cpu.size(); ++i) {
    const std::string gradient = what + ": gradient " + std::to_string(i);
    REQUIRE_MESSAGE(cpu[i].grad().defined() == gpu[i].grad().defined(), gradient);
    if (cpu[i].grad().defined()) check_matches(cpu[i].grad(), gpu[i].grad(), gradient);
  }
#if defined(TAPEGRAD_CUDA_EMULATOR)
  CHECK_MESSAGE(cuda_emulator::launches(launch) > launches_before, what, ": ", launch,
                " did not run");
#endif
}

using In = const std::vector<Tensor>&;

// The row lengths around the thresholds, with the launch each must take.
struct Length {
  int64_t n;
  const char* group;  // "warp" or "block"
};
const std::vector<Length> kLengths = {
    {5, "warp"}, {64, "warp"}, {1024, "warp"}, {1025, "block"}, {3000, "block"}};

std::string launch_name(const char* kernel, const Length& length) {
  return std::string(kernel) + " (" + length.group + " per row)";
}

// Keeps about two thirds of each row; row 1 keeps nothing (its softmax is all zeros).
Tensor keep_mask(int64_t rows, int64_t n, Device device) {
  std::vector<int32_t> keep(static_cast<size_t>(rows * n));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < n; ++j) keep[r * n + j] = r != 1 && (r + j) % 3 != 0;
  return from_vector(keep, {rows, n}, device);
}

TEST_CASE("row kernels: softmax and log-softmax on both sides of the warp/block threshold") {
  for (const Length& length : kLengths) {
    const std::string n = std::to_string(length.n);
    const std::string forward = launch_name("softmax", length);
    const std::string backward = launch_name("softmax_backward", length);
    check_case("softmax n=" + n, {{kRows, length.n}}, forward.c_str(),
               [](In x) { return softmax(x[0], 1); });
    check_case("softmax backward n=" + n, {{kRows, length.n}}, backward.c_str(),
               [](In x) { return softmax(x[0], 1); });
    check_case("log_softmax masked n=" + n, {{kRows, length.n}}, forward.c_str(), [&](In x) {
      return log_softmax(x[0], 1, keep_mask(kRows, length.n, x[0].device()));
    });
    check_case("softmax masked n=" + n, {{kRows, length.n}}, backward.c_str(),
               [&](In x) { return softmax(x[0], 1, keep_mask(kRows, length.n, x[0].device())); });
  }
  // Rows strided in memory (softmax over a middle dim), short and long.
  check_case("softmax dim 1 of [9,6,5]", {{9, 6, 5}}, "softmax (warp per row)",
             [](In x) { return softmax(x[0], 1); });
  check_case("softmax dim 1 of [2,1100,3]", {{2, 1100, 3}}, "softmax (block per row)",
             [](In x) { return softmax(x[0], 1); });
}

TEST_CASE("row kernels: layer norm on both sides of the warp/block threshold") {
  for (const Length& length : kLengths) {
    const std::string n = std::to_string(length.n);
    check_case("layer_norm n=" + n, {{kRows, length.n}, {length.n}, {length.n}},
               launch_name("layer_norm", length).c_str(),
               [](In x) { return layer_norm(x[0], x[1], x[2]); });
    check_case("layer_norm no affine n=" + n, {{kRows, length.n}},
               launch_name("layer_norm_backward", length).c_str(),
               [](In x) { return layer_norm(x[0], {}, {}); });
  }
}

TEST_CASE("row kernels: cross-entropy on both sides of the warp/block threshold") {
  for (const Length& length : kLengths) {
    std::vector<int32_t> targets(kRows);
    for (int64_t r = 0; r < kRows; ++r)
      targets[r] = r % 7 == 3 ? -1 : static_cast<int32_t>((r * 37) % length.n);
    CrossEntropyOptions options;
    options.ignore_index = -1;
    options.label_smoothing = 0.1f;
    check_case("cross_entropy n=" + std::to_string(length.n), {{kRows, length.n}},
               launch_name("cross_entropy", length).c_str(), [&](In x) {
                 return cross_entropy(x[0], from_vector(targets, {kRows}, x[0].device()), options);
               });
  }
}

TEST_CASE("reductions: a thread, a warp or a block per row, and long rows split into pieces") {
  struct Case {
    Shape shape;
    int64_t dim;
    const char* launch;
  };
  const std::vector<Case> cases = {
      {{kRows, 31}, 1, "reduce (thread per output)"},  {{kRows, 32}, 1, "reduce (warp per row)"},
      {{kRows, 1024}, 1, "reduce (warp per row)"},     {{kRows, 1025}, 1, "reduce (block per row)"},
      {{1, 5000}, 1, "reduce (block per row)"},      // 2 pieces, then a thread per output
      {{3, 70000}, 1, "reduce (block per row)"},     // 34 pieces per row, then a warp per row
      {{5000, 3}, 0, "reduce (thread per output)"},  // pieces of 33 rows, then of 38, then 4
      {{4, 300, 70}, 1, "reduce (thread per output)"},
  };
  for (const Case& c : cases) {
    const std::string shape = to_string(c.shape) + " dim " + std::to_string(c.dim);
    const int64_t dim = c.dim;
    check_case("sum " + shape, {c.shape}, c.launch, [dim](In x) { return sum(x[0], {dim}); });
    check_case("mean " + shape, {c.shape}, c.launch, [dim](In x) { return mean(x[0], {dim}); });
    check_case("max " + shape, {c.shape}, c.launch, [dim](In x) { return max(x[0], {dim}); });
    check_case("min " + shape, {c.shape}, c.launch, [dim](In x) { return min(x[0], {dim}); });
  }
  // A full sum (clip_grad_norm's squared norm): one output from 21000 inputs.
  check_case("sum of squares of [300,70]", {{300, 70}}, "reduce (thread per output)",
             [](In x) { return sum(x[0] * x[0]); });
}

TEST_CASE("elementwise: flat indexing where inputs are same-shaped or one value, else strided") {
  check_case("same shapes", {{kRows, 33}, {kRows, 33}}, "binary",
             [](In x) { return x[0] * x[1] - x[1]; });
  check_case("one value", {{kRows, 33}, {1}}, "binary", [](In x) { return x[0] / (x[1] + 3.0f); });
  check_case("a row broadcast down the rows", {{kRows, 33}, {33}}, "binary",
             [](In x) { return x[0] + x[1]; });
  check_case("a column broadcast along the rows", {{kRows, 33}, {kRows, 1}}, "binary",
             [](In x) { return maximum(x[0], x[1]); });
  check_case("where, same shapes", {{kRows, 33}, {kRows, 33}}, "where",
             [](In x) { return where(gt(x[0], x[1]), x[0], x[1]); });
  check_case("where, broadcast", {{kRows, 33}, {33}}, "where",
             [](In x) { return where(gt(x[0], x[1]), x[0], x[1]); });
  check_case("expand one value", {{1}}, "gather_words", [](In x) {
    return expand(x[0], {kRows, 33}) * 2.0f;
  });
  check_case("comparison, same shapes", {{kRows, 33}, {kRows, 33}}, "binary",
             [](In x) { return gt(x[0], x[1]).to(DType::Float32) * x[0]; });
}

}  // namespace
}  // namespace tg
