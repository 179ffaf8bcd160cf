// MultiHeadAttention's per-head gate (head_mask) and head_dim option: a gate of 0 on head h is
// the output without head h's share of w_o (computed by hand), 1 is no gate, values in between
// scale; the gate's gradient against the formula and gradcheck; the observer; every error.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "framework/tapegrad.h"
#include "layers/module_gradcheck.h"
#include "layers/multi_head_attention.h"
#include "tests/framework/helpers.h"
#include "tests/layers/head_reference.h"

using namespace tg;
using tg::testing::check_close;
using tg::testing::from;
using tg::testing::gated_reference;
using tg::testing::head_share;
using tg::testing::random_tensor;
using Holder = tg::testing::AttentionHolder;

TEST_CASE("head_mask 0 on head h removes exactly head h's share of the output") {
  Generator gen(3);
  MultiHeadAttention mha(6, 3, {}, gen);
  const Tensor x = random_tensor({2, 4, 6}, 4);
  const Tensor full_output = mha(x, x, x).output;
  check_close(full_output.to_vector<float>(),
              gated_reference(mha, x, {1, 1, 1}).to_vector<float>());

  for (int64_t h = 0; h < 3; ++h) {
    std::vector<float> gate{1, 1, 1};
    gate[h] = 0;
    mha.set_head_mask(from(gate));
    const Tensor got = mha(x, x, x).output;
    // By hand: the full output minus head h's share.
    const Tensor want = full_output - head_share(mha, x, h);
    check_close(got.to_vector<float>(), want.to_vector<float>());
    CHECK(max(abs(got - full_output)).item() > 1e-3f);  // the head did contribute
  }
  mha.set_head_mask(from({0.5f, 1.0f, 2.0f}));  // values in between (and beyond) scale
  check_close(mha(x, x, x).output.to_vector<float>(),
              gated_reference(mha, x, {0.5f, 1.0f, 2.0f}).to_vector<float>());
  mha.set_head_mask(Tensor());  // removed: as before
  check_close(mha(x, x, x).output.to_vector<float>(), full_output.to_vector<float>());
  // The weights are the heads' attention, whatever the gate.
  mha.set_head_mask(from({0, 0, 0}));
  const AttentionResult zeroed = mha(x, x, x);
  check_close(zeroed.output.to_vector<float>(),
              (zeros({2, 4, 6}) + mha.w_o.bias).to_vector<float>());
  check_close(sum(zeroed.weights, {-1}).to_vector<float>(), std::vector<float>(24, 1.0f));
}

TEST_CASE("the gate's gradient is sum over batch, queries and features of dL/d output x share") {
  Generator gen(5);
  MultiHeadAttention mha(6, 3, {}, gen);
  const Tensor x = random_tensor({2, 3, 6}, 6), w = random_tensor({2, 3, 6}, 7);
  const Tensor gate = from({1, 1, 1}).set_requires_grad();
  mha.set_head_mask(gate);
  (mha(x, x, x).output * w).sum().backward();
  // L = sum(w * (sum_h g_h share_h + b))  =>  dL/dg_h = sum(w * share_h)
  std::vector<float> want;
  for (int64_t h = 0; h < 3; ++h) want.push_back(sum(w * head_share(mha, x, h)).item());
  REQUIRE(gate.grad().defined());
  check_close(gate.grad().to_vector<float>(), want, 1e-4f);
}

TEST_CASE("gradcheck: MultiHeadAttention with a head_mask, padding and a causal mask") {
  Generator gen(8);
  MultiHeadAttention mha(4, 2, {}, gen);
  const Tensor lens = from_vector(std::vector<int32_t>{2, 3}, {2});
  auto f = [&](const std::vector<Tensor>& in) {
    mha.set_head_mask(in[1]);
    return mha(in[0], in[0], in[0], lens, AttentionMask::keep(causal_mask(3))).output;
  };
  const GradcheckResult r = gradcheck_module(
      mha, f, {random_tensor({2, 3, 4}, 9, true), from({0.7f, -1.3f}).set_requires_grad()});
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("head_dim apart from embed_dim: projections of num_heads x head_dim rows") {
  Generator gen(10);
  MultiHeadAttentionOptions options;
  options.head_dim = 5;
  MultiHeadAttention mha(4, 3, options, gen);
  CHECK(mha.inner_dim() == 15);
  CHECK(mha.w_q.weight.shape() == Shape{15, 4});
  CHECK(mha.w_o.weight.shape() == Shape{4, 15});
  const Tensor x = random_tensor({2, 3, 4}, 11);
  check_close(mha(x, x, x).output.to_vector<float>(),
              gated_reference(mha, x, {1, 1, 1}).to_vector<float>());
  auto f = [&](const std::vector<Tensor>& in) { return mha(in[0], in[0], in[0]).output; };
  const GradcheckResult r = gradcheck_module(mha, f, {random_tensor({1, 2, 4}, 12, true)});
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("the observer sees the weights, the key padding and whether queries are the keys") {
  Generator gen(13);
  MultiHeadAttention mha(4, 2, {}, gen);
  std::vector<AttentionObservation> seen;
  mha.observer = [&](const AttentionObservation& o) { seen.push_back(o); };
  const Tensor x = random_tensor({2, 3, 4}, 14), m = random_tensor({2, 3, 4}, 15);
  const AttentionResult result = mha(x, x, x, from_vector(std::vector<int32_t>{2, 3}, {2}));
  mha(x, m, m);
  REQUIRE(seen.size() == 2);
  check_close(seen[0].weights.to_vector<float>(), result.weights.to_vector<float>());
  CHECK_FALSE(seen[0].weights.requires_grad());
  check_close(seen[0].key_keep.to_vector<float>(), {1, 1, 0, 1, 1, 1});
  CHECK(seen[0].self_attention);
  CHECK_FALSE(seen[1].key_keep.defined());
  CHECK_FALSE(seen[1].self_attention);
}

TEST_CASE("head_mask and head_dim errors name the layer, what was expected and what came") {
  Generator gen(16);
  Holder holder(gen);
  const std::string who = "MultiHeadAttention 'attn': head_mask must be float32 [num_heads] = [3]";
  CHECK_THROWS_WITH_AS(holder.attn.set_head_mask(ones({2})),
                       doctest::Contains((who + ", got float32 [2]").c_str()), Error);
  CHECK_THROWS_WITH_AS(holder.attn.set_head_mask(ones({3, 1})),
                       doctest::Contains((who + ", got float32 [3,1]").c_str()), Error);
  CHECK_THROWS_WITH_AS(holder.attn.set_head_mask(ones({3}, DType::Int32)),
                       doctest::Contains((who + ", got int32 [3]").c_str()), Error);
  CHECK_FALSE(holder.attn.head_mask().defined());  // a refused mask is not attached
  MultiHeadAttentionOptions negative;
  negative.head_dim = -2;
  CHECK_THROWS_WITH_AS(MultiHeadAttention(4, 2, negative, gen),
                       doctest::Contains("MultiHeadAttention: head_dim must be positive (or 0: "
                                         "embed_dim / num_heads), got -2"),
                       Error);
}
