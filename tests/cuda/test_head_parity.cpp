// CPU/CUDA parity of the head gate, head pruning and head importance (layers/head_*.h): the same
// layer on both devices, gated and then pruned, gives the same outputs and gradients (the gate's
// included), head_importance the same scores; a gate on the wrong device is a clear error.
// Runs only where a GPU is usable (and on the CUDA emulator); elsewhere it reports Skipped.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "framework/tapegrad.h"
#include "layers/layers.h"
#include "tests/framework/helpers.h"

namespace {

using namespace tg;

constexpr float kTolerance = 1e-4f;

std::vector<float> host(const Tensor& t) { return t.to(Device::CPU).to_vector<float>(); }

}  // namespace

TEST_CASE("head parity: a gated, then pruned MultiHeadAttention on both devices") {
  Generator cpu_gen(80), cuda_gen(80);
  MultiHeadAttention cpu(8, 4, {}, cpu_gen), cuda(8, 4, {}, cuda_gen);
  cuda.to(Device::CUDA);
  const Tensor x = tg::testing::random_tensor({2, 3, 8}, 81),
               w = tg::testing::random_tensor({2, 3, 8}, 82);
  const Tensor lens = from_vector(std::vector<int32_t>{3, 2}, {2});
  const std::vector<float> gate{1.0f, 0.0f, 0.5f, 1.0f};
  auto run = [&](MultiHeadAttention& layer, Device device) {
    const Tensor g = from_vector(gate, {4}).to(device).set_requires_grad();
    layer.set_head_mask(g);
    const Tensor out = layer(x.to(device), x.to(device), x.to(device), lens.to(device)).output;
    (out * w.to(device)).sum().backward();
    return std::make_pair(host(out), host(g.grad()));
  };
  const auto [cpu_out, cpu_gate_grad] = run(cpu, Device::CPU);
  const auto [cuda_out, cuda_gate_grad] = run(cuda, Device::CUDA);
  tg::testing::check_close(cuda_out, cpu_out, kTolerance);
  tg::testing::check_close(cuda_gate_grad, cpu_gate_grad, kTolerance);

  prune_heads(cpu, {1});
  prune_heads(cuda, {1});
  CHECK(cuda.w_q.weight.device() == Device::CUDA);
  const Tensor cpu_pruned = cpu(x, x, x, lens).output;
  tg::testing::check_close(
      host(cuda(x.to(Device::CUDA), x.to(Device::CUDA), x.to(Device::CUDA), lens.to(Device::CUDA))
               .output),
      host(cpu_pruned), kTolerance);
  tg::testing::check_close(host(cpu_pruned), cpu_out, kTolerance);  // gate 0 = pruned
}

TEST_CASE("head parity: head_importance on both devices, and a gate on the wrong device") {
  Generator cpu_gen(83), cuda_gen(83);
  TransformerEncoder cpu(1, 8, 2, 16, {.dropout = 0.0f}, cpu_gen),
      cuda(1, 8, 2, 16, {.dropout = 0.0f}, cuda_gen);
  cuda.to(Device::CUDA);
  const Tensor x = tg::testing::random_tensor({2, 3, 8}, 84);
  const Tensor lens = from_vector(std::vector<int32_t>{3, 2}, {2});
  auto measure = [&](TransformerEncoder& model, Device device) {
    return head_importance(model, 1, [&](int64_t) {
      return (model(x.to(device), lens.to(device)) * x.to(device)).sum();
    })[0];
  };
  const HeadStatistics on_cpu = measure(cpu, Device::CPU), on_cuda = measure(cuda, Device::CUDA);
  for (size_t h = 0; h < 2; ++h) {
    CHECK(on_cuda.raw_importance[h] == doctest::Approx(on_cpu.raw_importance[h]).epsilon(1e-3));
    CHECK(on_cuda.entropy[h] == doctest::Approx(on_cpu.entropy[h]).epsilon(1e-4));
  }
  MultiHeadAttention& attn = cuda.layer(0).self_attn;
  attn.set_head_mask(ones({2}));  // on the CPU, the layer on the GPU
  const Tensor on_gpu = x.to(Device::CUDA);
  CHECK_THROWS_WITH_AS(attn(on_gpu, on_gpu, on_gpu),
                       doctest::Contains("MultiHeadAttention 'layers.0.self_attn': head_mask must "
                                         "be on the query's device (cuda), got one on cpu"),
                       Error);
}
