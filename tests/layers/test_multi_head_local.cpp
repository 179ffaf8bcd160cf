// MultiHeadAttention with a local window (MultiHeadAttentionOptions::window): the same layer
// without a window under the equivalent band mask computes the same outputs and gradients (to
// 1e-5), with padding and a causal mask; gradcheck; every parameter gets a gradient; the errors.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "framework/tapegrad.h"
#include "layers/module_gradcheck.h"
#include "layers/multi_head_attention.h"
#include "tests/framework/helpers.h"

using namespace tg;
using tg::testing::band_keep_mask;
using tg::testing::check_close;
using tg::testing::random_tensor;

namespace {

MultiHeadAttentionOptions with_window(int64_t window) {
  MultiHeadAttentionOptions options;
  options.window = window;
  return options;
}

// Output and every gradient (input, then parameters in order) of a weighted sum of the output.
std::vector<std::vector<float>> output_and_gradients(const MultiHeadAttention& mha, const Tensor& x,
                                                     const AttentionMask& padding,
                                                     const AttentionMask& pairs) {
  const Tensor input = x.detach().set_requires_grad();
  const Tensor out = mha(input, input, input, padding, pairs).output;
  (out * random_tensor(out.shape(), 7)).sum().backward();
  std::vector<std::vector<float>> all{out.to_vector<float>(), input.grad().to_vector<float>()};
  for (const Tensor& p : mha.parameters()) all.push_back(p.grad().to_vector<float>());
  return all;
}

}  // namespace

TEST_CASE("MultiHeadAttention with a window equals full attention under the band mask") {
  const int64_t len = 9, window = 2;
  const Tensor x = random_tensor({2, len, 8}, 1);
  const Tensor lens = from_vector(std::vector<int32_t>{9, 5}, {2});
  for (bool causal : {false, true}) {
    INFO("causal ", causal);
    Generator gen_local(3), gen_full(3);  // the same initial weights
    MultiHeadAttention local(8, 2, with_window(window), gen_local);
    MultiHeadAttention full_attention(8, 2, {}, gen_full);
    const AttentionMask causal_keep =
        causal ? AttentionMask::keep(causal_mask(len)) : AttentionMask();
    const auto got = output_and_gradients(local, x, lens, causal_keep);
    const auto want = output_and_gradients(
        full_attention, x, lens, AttentionMask::keep(band_keep_mask(len, window, causal)));
    REQUIRE(got.size() == want.size());
    for (size_t n = 0; n < got.size(); ++n) {
      INFO("result ", n, " (0: output, 1: input gradient, then parameters)");
      check_close(got[n], want[n]);
    }
  }
}

TEST_CASE("MultiHeadAttention with a window returns the band of weights, [B, heads, L, 2w+1]") {
  Generator gen(4);
  MultiHeadAttention mha(4, 2, with_window(1), gen);
  const Tensor x = random_tensor({1, 3, 4}, 5);
  const AttentionResult r = mha(x, x, x);
  CHECK(r.weights.shape() == Shape{1, 2, 3, 3});
  // Each row sums to 1; the first row's entry before the sequence and the last row's after it
  // are 0.
  check_close(sum(r.weights, {-1}).to_vector<float>(), {1, 1, 1, 1, 1, 1});
  const std::vector<float> w = r.weights.to_vector<float>();
  CHECK(w[0] == 0.0f);
  CHECK(w[8] == 0.0f);
  CHECK(w[4] > 0.0f);
}

TEST_CASE("gradcheck: MultiHeadAttention with a window, padding and a causal mask") {
  Generator gen(6);
  MultiHeadAttention mha(4, 2, with_window(1), gen);
  const Tensor lens = from_vector(std::vector<int32_t>{4, 2}, {2});
  auto self = [&](const std::vector<Tensor>& in) {
    return mha(in[0], in[0], in[0], lens, AttentionMask::keep(causal_mask(4))).output;
  };
  const GradcheckResult r = gradcheck_module(mha, self, {random_tensor({2, 4, 4}, 8, true)});
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("MultiHeadAttention with a window: every parameter receives a gradient") {
  Generator gen(9);
  MultiHeadAttention mha(4, 2, with_window(2), gen);
  const Tensor x = random_tensor({2, 6, 4}, 10);
  (mha(x, x, x).output * random_tensor({2, 6, 4}, 11)).sum().backward();
  for (const auto& [name, p] : mha.named_parameters()) {
    INFO("parameter ", name);
    REQUIRE(p.grad().defined());
    CHECK(sum(abs(p.grad())).item() > 0.0f);
  }
}

TEST_CASE("MultiHeadAttention with a window rejects a negative window and cross-attention") {
  Generator gen(12);
  CHECK_THROWS_WITH_AS(MultiHeadAttention(4, 2, with_window(-1), gen),
                       "MultiHeadAttention: window must be >= 0 (0: full attention), got -1",
                       Error);
  MultiHeadAttention mha(4, 2, with_window(2), gen);
  const Tensor query = random_tensor({1, 3, 4}, 13), memory = random_tensor({1, 5, 4}, 14);
  CHECK_THROWS_WITH_AS(mha(query, memory, memory),
                       "MultiHeadAttention: local attention (window 2) is self-attention: query "
                       "and key need the same length, got Lq 3 and Lk 5",
                       Error);
}
