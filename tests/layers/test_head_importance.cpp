// head_importance: importance against the gate-gradient formula and its per-layer L2
// normalisation; attention entropy of uniform heads against log(length), with padded queries
// left out in self- and cross-attention; the model left as it was; every layer of an
// encoder-decoder named; every error.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "framework/tapegrad.h"
#include "layers/head_importance.h"
#include "layers/head_pruning.h"
#include "layers/init.h"
#include "layers/transformer.h"
#include "tests/framework/helpers.h"
#include "tests/layers/head_reference.h"

using namespace tg;
using tg::testing::check_close;
using tg::testing::head_share;
using tg::testing::random_tensor;
using Holder = tg::testing::AttentionHolder;

namespace {

// A query projection of zeros makes every score 0: each head attends uniformly to the keys it
// may see, so its entropy over a query with n keys is log(n).
void make_uniform(MultiHeadAttention& attn) {
  init::zeros_(attn.w_q.weight);
  init::zeros_(attn.w_q.bias);
}

Tensor lengths(const std::vector<int32_t>& values) {
  return from_vector(values, {static_cast<int64_t>(values.size())});
}

}  // namespace

TEST_CASE("importance is the mean over batches of |dL/dg_h|, normalised per layer") {
  Generator gen(50);
  Holder holder(gen);
  const Tensor x = random_tensor({2, 3, 6}, 51);
  const std::vector<Tensor> weights{random_tensor({2, 3, 6}, 52), random_tensor({2, 3, 6}, 53)};
  const std::vector<HeadStatistics> stats = head_importance(holder, 2, [&](int64_t batch) {
    return (holder.attn(x, x, x).output * weights[batch]).sum();
  });
  REQUIRE(stats.size() == 1);
  CHECK(stats[0].layer == "attn");
  CHECK(stats[0].heads == std::vector<int64_t>{0, 1, 2});
  // L_b = sum(w_b * (sum_h g_h share_h + b))  =>  dL_b/dg_h = sum(w_b * share_h)
  std::vector<float> want;
  double norm = 0;
  for (int64_t h = 0; h < 3; ++h) {
    const Tensor share = head_share(holder.attn, x, h);
    want.push_back(0.5f * (std::abs(sum(weights[0] * share).item()) +
                           std::abs(sum(weights[1] * share).item())));
    norm += want.back() * want.back();
  }
  check_close(std::vector<float>(stats[0].raw_importance.begin(), stats[0].raw_importance.end()),
              want, 1e-4f);
  for (int64_t h = 0; h < 3; ++h)
    CHECK(stats[0].importance[h] == doctest::Approx(want[h] / std::sqrt(norm)).epsilon(1e-4));
}

TEST_CASE("head_importance leaves the model as it found it") {
  Generator gen(54);
  Holder holder(gen);
  const Tensor mask = tg::testing::from({1, 0, 1});
  holder.attn.set_head_mask(mask);
  const Tensor x = random_tensor({1, 2, 6}, 55);
  head_importance(holder, 1, [&](int64_t) { return holder.attn(x, x, x).output.sum(); });
  CHECK(holder.is_training());  // eval while measuring, then back
  CHECK(holder.attn.head_mask().id() == mask.id());
  CHECK_FALSE(static_cast<bool>(holder.attn.observer));
  for (const auto& [name, p] : holder.named_parameters()) {
    INFO("parameter ", name);
    CHECK(p.requires_grad());
    CHECK_FALSE(p.grad().defined());  // only the gates got gradients
  }
}

TEST_CASE("entropy: uniform heads give log of the real keys, padded queries left out") {
  Generator gen(56);
  TransformerEncoder encoder(1, 6, 3, 8, {.dropout = 0.0f}, gen);
  make_uniform(encoder.layer(0).self_attn);
  const Tensor x = random_tensor({2, 3, 6}, 57);
  const auto stats = head_importance(encoder, 1, [&](int64_t) {
    return encoder(x, lengths({2, 3})).sum();
  });
  REQUIRE(stats.size() == 1);
  CHECK(stats[0].layer == "layers.0.self_attn");
  // Real queries: 2 of the first word (2 keys each), 3 of the second (3 keys each).
  const double want = (2 * std::log(2.0) + 3 * std::log(3.0)) / 5;
  for (double entropy : stats[0].entropy) CHECK(entropy == doctest::Approx(want).epsilon(1e-5));
}

TEST_CASE("entropy in a decoder: causal self-attention, and cross-attention's padded queries") {
  Generator gen(58);
  TransformerDecoder decoder(1, 6, 3, 8, {.dropout = 0.0f}, gen);
  make_uniform(decoder.layer(0).self_attn);
  make_uniform(decoder.layer(0).cross_attn);
  const Tensor target = random_tensor({2, 3, 6}, 59), memory = random_tensor({2, 4, 6}, 60);
  const auto stats = head_importance(decoder, 1, [&](int64_t) {
    // Weighted: a plain sum of a LayerNorm's output does not depend on its input.
    return (decoder(target, memory, lengths({1, 3}), lengths({2, 4})) * target).sum();
  });
  REQUIRE(stats.size() == 2);
  CHECK(stats[0].layer == "layers.0.self_attn");
  CHECK(stats[1].layer == "layers.0.cross_attn");
  // Self: query t sees keys 0..t; real queries: t = 0 of the first, t = 0, 1, 2 of the second.
  const double self = (0 + 0 + std::log(2.0) + std::log(3.0)) / 4;
  // Cross: the same 4 real queries; the first word's memory has 2 real keys, the second's 4.
  const double cross = (std::log(2.0) + 3 * std::log(4.0)) / 4;
  for (int64_t h = 0; h < 3; ++h) {
    CHECK(stats[0].entropy[h] == doctest::Approx(self).epsilon(1e-5));
    CHECK(stats[1].entropy[h] == doctest::Approx(cross).epsilon(1e-5));
    CHECK(stats[1].raw_importance[h] > 0);
  }
}

TEST_CASE("every attention layer of an encoder-decoder is measured and named") {
  Generator gen(61);
  struct Seq2Seq : Module {
    TransformerEncoder encoder;
    TransformerDecoder decoder;
    explicit Seq2Seq(Generator& gen)
        : Module("Seq2Seq"), encoder(2, 8, 2, 16, {}, gen), decoder(2, 8, 4, 16, {}, gen) {
      register_module("encoder", encoder);
      register_module("decoder", decoder);
    }
  } model(gen);
  prune_heads(model.decoder.layer(1).cross_attn, {0, 2});
  const Tensor source = random_tensor({2, 3, 8}, 62), target = random_tensor({2, 2, 8}, 63);
  const auto stats = head_importance(model, 2, [&](int64_t) {
    return (model.decoder(target, model.encoder(source)) * target).sum();
  });
  std::vector<std::string> names;
  for (const HeadStatistics& s : stats) names.push_back(s.layer);
  CHECK(names ==
        std::vector<std::string>{"encoder.layers.0.self_attn", "encoder.layers.1.self_attn",
                                 "decoder.layers.0.self_attn", "decoder.layers.0.cross_attn",
                                 "decoder.layers.1.self_attn", "decoder.layers.1.cross_attn"});
  CHECK(stats[0].importance.size() == 2);
  CHECK(stats[5].heads == std::vector<int64_t>{1, 3});
  for (const HeadStatistics& s : stats) {
    INFO("layer ", s.layer);
    double squares = 0;
    for (double importance : s.importance) squares += importance * importance;
    CHECK(squares == doctest::Approx(1.0));
    for (double importance : s.raw_importance) CHECK(importance > 1e-4);
    for (double entropy : s.entropy) CHECK(entropy > 0);
  }
}

TEST_CASE("head_importance errors say what was expected and what came") {
  Generator gen(64);
  Holder holder(gen);
  const Tensor x = random_tensor({1, 2, 6}, 65);
  auto loss = [&](int64_t) { return holder.attn(x, x, x).output.sum(); };
  CHECK_THROWS_WITH_AS(head_importance(holder, 0, loss),
                       doctest::Contains("head_importance: num_batches must be positive, got 0"),
                       Error);
  Linear linear(2, 2);
  CHECK_THROWS_WITH_AS(head_importance(linear, 1, loss),
                       doctest::Contains("head_importance: Linear has no MultiHeadAttention layer"),
                       Error);
  CHECK_THROWS_WITH_AS(
      head_importance(holder, 1, [&](int64_t) { return holder.attn(x, x, x).output; }),
      doctest::Contains("head_importance: the loss of batch 0 must be a scalar, got [1,2,6]"),
      Error);
  CHECK_FALSE(holder.attn.head_mask().defined());  // restored after the error too
  for (const auto& [name, p] : holder.named_parameters()) CHECK(p.requires_grad());
}
