// prune_heads: the pruned layer computes what the gated layer (head_mask 0 on those heads)
// computes, forward and input gradients, with fewer parameters; pruning twice; every head
// pruned; a pruned model's checkpoint rebuilds the shapes on load; every error.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "framework/serialize.h"
#include "framework/tapegrad.h"
#include "layers/head_pruning.h"
#include "layers/model_checkpoint.h"
#include "layers/transformer.h"
#include "tests/framework/helpers.h"
#include "tests/layers/head_reference.h"

using namespace tg;
using tg::testing::check_close;
using tg::testing::from;
using tg::testing::random_tensor;

namespace {

struct Outcome {
  std::vector<float> output, query_grad, key_grad;
};

// Cross-attention with padded keys; L = sum(output * w); the inputs' gradients.
Outcome run(const MultiHeadAttention& mha, const Tensor& w) {
  const Tensor query = random_tensor({2, 3, 8}, 40, true), key = random_tensor({2, 4, 6}, 41, true);
  const Tensor lens = from_vector(std::vector<int32_t>{2, 4}, {2});
  const Tensor out = mha(query, key, key, lens).output;
  (out * w).sum().backward();
  auto grad = [](const Tensor& t) {
    return t.grad().defined() ? t.grad().to_vector<float>() : zeros(t.shape()).to_vector<float>();
  };
  return {out.to_vector<float>(), grad(query), grad(key)};
}

void check_same(const Outcome& got, const Outcome& want) {
  check_close(got.output, want.output);
  check_close(got.query_grad, want.query_grad);
  check_close(got.key_grad, want.key_grad);
}

MultiHeadAttentionOptions cross_options() {
  MultiHeadAttentionOptions options;
  options.kdim = options.vdim = 6;
  return options;
}

}  // namespace

TEST_CASE("a pruned layer computes what the gated layer computes, with fewer parameters") {
  Generator gen(30);
  MultiHeadAttention mha(8, 4, cross_options(), gen);
  const Tensor w = random_tensor({2, 3, 8}, 31);
  const int64_t before = mha.parameter_count();
  mha.set_head_mask(from({0, 1, 0, 1}));
  const Outcome gated = run(mha, w);
  mha.set_head_mask(Tensor());
  prune_heads(mha, {2, 0});
  CHECK(mha.num_heads() == 2);
  CHECK(mha.head_dim() == 2);
  CHECK(mha.inner_dim() == 4);
  CHECK(mha.original_heads() == std::vector<int64_t>{1, 3});
  CHECK(mha.is_pruned());
  CHECK(mha.w_q.weight.shape() == Shape{4, 8});
  CHECK(mha.w_k.weight.shape() == Shape{4, 6});
  CHECK(mha.w_v.bias.shape() == Shape{4});
  CHECK(mha.w_o.weight.shape() == Shape{8, 4});
  CHECK(mha.w_o.bias.shape() == Shape{8});
  // Half the heads: half of q, k, v and w_o's weights and q, k, v's biases go.
  CHECK(mha.parameter_count() == before - (8 * 8 + 6 * 8 + 6 * 8 + 8 * 8 + 3 * 8) / 2);
  check_same(run(mha, w), gated);
  // The parameters still learn: each gets a gradient of its new shape.
  for (const auto& [name, p] : mha.named_parameters()) {
    INFO("parameter ", name);
    REQUIRE(p.grad().defined());
    CHECK(p.grad().shape() == p.shape());
  }
}

TEST_CASE(
    "pruning twice: indices are the current heads, and an attached gate loses the same entries") {
  Generator gen(32);
  MultiHeadAttention mha(8, 4, cross_options(), gen);
  const Tensor w = random_tensor({2, 3, 8}, 33);
  mha.set_head_mask(from({0.5f, 0, 2, 0}));
  const Outcome gated = run(mha, w);
  prune_heads(mha, {1});  // heads 0, 2, 3 remain: now numbered 0, 1, 2
  CHECK(mha.head_mask().to_vector<float>() == std::vector<float>{0.5f, 2, 0});
  prune_heads(mha, {2});  // original head 3
  CHECK(mha.original_heads() == std::vector<int64_t>{0, 2});
  CHECK(mha.head_mask().to_vector<float>() == std::vector<float>{0.5f, 2});
  check_same(run(mha, w), gated);
  prune_heads(mha, {});  // nothing: nothing changes
  CHECK(mha.num_heads() == 2);
}

TEST_CASE("every head pruned: the layer outputs w_o's bias, and the bias still learns") {
  Generator gen(34);
  MultiHeadAttention mha(8, 4, cross_options(), gen);
  const Tensor w = random_tensor({2, 3, 8}, 35);
  mha.set_head_mask(from({0, 0, 0, 0}));
  const Outcome gated = run(mha, w);
  mha.set_head_mask(Tensor());
  mha.zero_grad();
  prune_heads(mha, {0, 1, 2, 3});
  CHECK(mha.num_heads() == 0);
  CHECK(mha.w_q.weight.shape() == Shape{0, 8});
  CHECK(mha.w_o.weight.shape() == Shape{8, 0});
  CHECK(mha.parameter_count() == 8);  // b_o alone
  const Outcome pruned = run(mha, w);
  check_same(pruned, gated);
  check_close(pruned.output, (zeros({2, 3, 8}) + mha.w_o.bias).to_vector<float>());
  REQUIRE(mha.w_o.bias.grad().defined());
  check_close(mha.w_o.bias.grad().to_vector<float>(), sum(w, {0, 1}).to_vector<float>());
  const Tensor x = random_tensor({2, 3, 8}, 36), key = random_tensor({2, 4, 6}, 37);
  CHECK(mha(x, key, key).weights.shape() == Shape{2, 0, 3, 4});
}

TEST_CASE("a pruned Transformer's checkpoint is smaller and loads into a freshly built model") {
  Generator gen(37);
  TransformerEncoder encoder(2, 8, 4, 16, {.dropout = 0.0f}, gen);
  encoder.eval();
  const Tensor x = random_tensor({2, 3, 8}, 38);
  const Tensor lens = from_vector(std::vector<int32_t>{3, 2}, {2});
  const std::string dir = std::filesystem::temp_directory_path() / "tapegrad_head_pruning";
  std::filesystem::create_directories(dir);
  save_checkpoint(model_checkpoint(encoder), dir + "/full.tg");
  prune_heads(encoder.layer(0).self_attn, {0, 3});
  prune_heads(encoder.layer(1).self_attn, {1});
  const Checkpoint saved = model_checkpoint(encoder);
  CHECK(saved.get_string("heads.layers.0.self_attn") == "1,2");
  CHECK(saved.get_string("heads.layers.1.self_attn") == "0,2,3");
  save_checkpoint(saved, dir + "/pruned.tg");
  CHECK(std::filesystem::file_size(dir + "/pruned.tg") <
        std::filesystem::file_size(dir + "/full.tg"));

  Generator other(99);
  TransformerEncoder rebuilt(2, 8, 4, 16, {.dropout = 0.0f}, other);
  rebuilt.eval();
  load_into(load_checkpoint(dir + "/pruned.tg"), rebuilt);
  CHECK(rebuilt.layer(0).self_attn.original_heads() == std::vector<int64_t>{1, 2});
  CHECK(rebuilt.layer(1).self_attn.num_heads() == 3);
  check_close(rebuilt(x, lens).to_vector<float>(), encoder(x, lens).to_vector<float>());
  std::filesystem::remove_all(dir);
}

TEST_CASE("loading a pruned model's tensors into an unpruned one names the mismatched shapes") {
  Generator gen(42);
  TransformerEncoder pruned(1, 8, 4, 16, {}, gen), full(1, 8, 4, 16, {}, gen);
  prune_heads(pruned.layer(0).self_attn, {0});
  CHECK_THROWS_WITH_AS(full.load_state_dict(pruned.state_dict()),
                       doctest::Contains("layers.0.self_attn.w_q.weight"), Error);
  CHECK_THROWS_WITH_AS(full.load_state_dict(pruned.state_dict()), doctest::Contains("[8,8]"),
                       Error);
  CHECK_THROWS_WITH_AS(full.load_state_dict(pruned.state_dict()), doctest::Contains("[6,8]"),
                       Error);
}

TEST_CASE(
    "prune_heads and apply_head_layout errors name the layer, what was expected and what came") {
  Generator gen(43);
  TransformerEncoder encoder(1, 8, 4, 16, {}, gen);
  MultiHeadAttention& attn = encoder.layer(0).self_attn;
  const std::string who = "prune_heads MultiHeadAttention 'layers.0.self_attn': ";
  CHECK_THROWS_WITH_AS(prune_heads(attn, {1, 4}),
                       doctest::Contains((who + "head 4 is out of range [0, 4)").c_str()), Error);
  CHECK_THROWS_WITH_AS(prune_heads(attn, {-1}),
                       doctest::Contains((who + "head -1 is out of range [0, 4)").c_str()), Error);
  CHECK_THROWS_WITH_AS(prune_heads(attn, {2, 0, 2}),
                       doctest::Contains((who + "head 2 is listed twice").c_str()), Error);
  CHECK(attn.num_heads() == 4);  // a refused pruning changes nothing
  CHECK(attn.w_q.weight.shape() == Shape{8, 8});

  Checkpoint layout;
  layout.set_string("heads.layers.0.ff", "0");
  CHECK_THROWS_WITH_AS(apply_head_layout(layout, encoder),
                       doctest::Contains("apply_head_layout: checkpoint records the heads of "
                                         "'layers.0.ff', which is not an attention layer of "
                                         "TransformerEncoder"),
                       Error);
  Checkpoint bad_head;
  bad_head.set_string("heads.layers.0.self_attn", "1,7");
  CHECK_THROWS_WITH_AS(apply_head_layout(bad_head, encoder),
                       doctest::Contains("apply_head_layout: checkpoint keeps head 7 of "
                                         "MultiHeadAttention 'layers.0.self_attn', which has "
                                         "heads 0,1,2,3"),
                       Error);
  Checkpoint bad_text;
  bad_text.set_string("heads.layers.0.self_attn", "1,x");
  CHECK_THROWS_WITH_AS(apply_head_layout(bad_text, encoder),
                       doctest::Contains("heads.layers.0.self_attn must list head numbers "
                                         "separated by commas, got '1,x'"),
                       Error);
  CHECK(attn.num_heads() == 4);
}
