// MultiHeadAttention: against a head-by-head reference written with narrow / matmul / softmax,
// the mask forms (valid lengths, [B, Lk] keep-masks, [Lq, Lk] and [B, Lq, Lk] attention masks),
// gradcheck with padding and causal masks together, padding and causality invariances, fully
// masked rows, parameter names and gradients, and every error message.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "framework/tapegrad.h"
#include "layers/module_gradcheck.h"
#include "layers/multi_head_attention.h"
#include "tests/framework/helpers.h"

using namespace tg;
using tg::testing::all_finite;
using tg::testing::check_close;
using tg::testing::random_tensor;

namespace {

Tensor lengths(const std::vector<int32_t>& values) {
  return from_vector(values, {static_cast<int64_t>(values.size())});
}

Tensor project(const Linear& linear, const Tensor& x) {
  const Tensor y = matmul(x, transpose(linear.weight, 0, 1));
  return linear.bias.defined() ? y + linear.bias : y;
}

// Each head on its own slice of the projections, then concat and w_o. keep: [B, Lq, Lk] Int32.
AttentionResult reference_mha(const MultiHeadAttention& mha, const Tensor& query, const Tensor& key,
                              const Tensor& value, const Tensor& keep) {
  const Tensor q = project(mha.w_q, query), k = project(mha.w_k, key), v = project(mha.w_v, value);
  const int64_t dh = mha.head_dim();
  std::vector<Tensor> outputs, weights;
  for (int64_t h = 0; h < mha.num_heads(); ++h) {
    const Tensor qh = narrow(q, 2, h * dh, dh), kh = narrow(k, 2, h * dh, dh);
    const Tensor vh = narrow(v, 2, h * dh, dh);
    Tensor scores = matmul(qh, transpose(kh, 1, 2)) / std::sqrt(static_cast<float>(dh));
    if (keep.defined()) scores = masked_fill(scores, eq(keep, full({}, 0, DType::Int32)), -1e9f);
    const Tensor w = softmax(scores, -1);
    outputs.push_back(matmul(w, vh));
    weights.push_back(w);
  }
  return {project(mha.w_o, concat(outputs, 2)), stack(weights, 1)};
}

// doctest::Contains takes a doctest::String, which std::string does not convert to.
doctest::Contains contains(const std::string& text) { return doctest::Contains(text.c_str()); }

// A parent, so that error messages carry a path.
struct Holder : Module {
  MultiHeadAttention attn;
  explicit Holder(Generator& gen) : Module("Holder"), attn(4, 2, {}, gen) {
    register_module("attn", attn);
  }
};

}  // namespace

TEST_CASE("MultiHeadAttention matches the heads computed one by one") {
  Generator gen(1);
  MultiHeadAttention mha(4, 2, {}, gen);
  const Tensor x = random_tensor({2, 3, 4}, 2);
  const AttentionResult got = mha(x, x, x);
  CHECK(got.output.shape() == Shape{2, 3, 4});
  CHECK(got.weights.shape() == Shape{2, 2, 3, 3});
  const AttentionResult want = reference_mha(mha, x, x, x, {});
  check_close(got.output.to_vector<float>(), want.output.to_vector<float>());
  check_close(got.weights.to_vector<float>(), want.weights.to_vector<float>());
  check_close(sum(got.weights, {-1}).to_vector<float>(), std::vector<float>(12, 1.0f));
}

TEST_CASE("cross-attention with kdim, vdim and no bias matches the reference, with masks") {
  Generator gen(3);
  MultiHeadAttentionOptions options;
  options.kdim = 3;
  options.vdim = 5;
  options.bias = false;
  MultiHeadAttention mha(4, 2, options, gen);
  CHECK_FALSE(mha.w_q.bias.defined());
  CHECK(mha.w_k.weight.shape() == Shape{4, 3});
  CHECK(mha.w_v.weight.shape() == Shape{4, 5});
  const Tensor query = random_tensor({2, 2, 4}, 4), key = random_tensor({2, 3, 3}, 5);
  const Tensor value = random_tensor({2, 3, 5}, 6);

  const Tensor lens = lengths({2, 3});
  const Tensor keep = key_padding_mask(lens, 3).squeeze(1);  // [2, 1, 3]
  const AttentionResult want =
      reference_mha(mha, query, key, value, keep * ones({2, 2, 3}, DType::Int32));
  const AttentionResult by_lengths = mha(query, key, value, lens);
  check_close(by_lengths.output.to_vector<float>(), want.output.to_vector<float>());
  check_close(by_lengths.weights.to_vector<float>(), want.weights.to_vector<float>());

  // The same padding as a [B, Lk] keep-mask, Int32 or Float32, gives the same result.
  const Tensor keep_rows = from_vector(std::vector<int32_t>{1, 1, 0, 1, 1, 1}, {2, 3});
  CHECK(mha(query, key, value, AttentionMask::keep(keep_rows)).output.to_vector<float>() ==
        by_lengths.output.to_vector<float>());
  CHECK(mha(query, key, value, AttentionMask::keep(keep_rows.to(DType::Float32)))
            .output.to_vector<float>() == by_lengths.output.to_vector<float>());
  // ...as PyTorch's key_padding_mask (True = padding), Int32 or Float32...
  const Tensor padding_rows = from_vector(std::vector<int32_t>{0, 0, 1, 0, 0, 0}, {2, 3});
  CHECK(mha(query, key, value, AttentionMask::exclude(padding_rows)).output.to_vector<float>() ==
        by_lengths.output.to_vector<float>());
  CHECK(mha(query, key, value, AttentionMask::exclude(padding_rows.to(DType::Float32)))
            .output.to_vector<float>() == by_lengths.output.to_vector<float>());
  // ...and as a per-batch attn_mask [B, Lq, Lk], either way round.
  const Tensor pair_keep = keep * ones({2, 2, 3}, DType::Int32);
  CHECK(mha(query, key, value, {}, AttentionMask::keep(pair_keep)).output.to_vector<float>() ==
        by_lengths.output.to_vector<float>());
  CHECK(mha(query, key, value, {}, AttentionMask::exclude(eq(pair_keep, zeros({}, DType::Int32))))
            .output.to_vector<float>() == by_lengths.output.to_vector<float>());
}

TEST_CASE("key padding and a causal mask combine: a key is attended only where both keep it") {
  Generator gen(7);
  MultiHeadAttention mha(4, 2, {}, gen);
  const Tensor x = random_tensor({2, 4, 4}, 8);
  const Tensor lens = lengths({2, 4});
  const AttentionResult got = mha(x, x, x, lens, AttentionMask::keep(causal_mask(4)));
  const Tensor keep = key_padding_mask(lens, 4).squeeze(1) * causal_mask(4);  // [2, 4, 4]
  const AttentionResult want = reference_mha(mha, x, x, x, keep);
  check_close(got.output.to_vector<float>(), want.output.to_vector<float>());
  check_close(got.weights.to_vector<float>(), want.weights.to_vector<float>());
  // Every weight the combined mask removes is exactly zero.
  const std::vector<float> w = got.weights.to_vector<float>();  // [2, 2, 4, 4]
  const std::vector<int32_t> k = keep.to_vector<int32_t>();     // [2, 4, 4]
  for (int b = 0; b < 2; ++b)
    for (int h = 0; h < 2; ++h)
      for (int i = 0; i < 16; ++i)
        if (k[b * 16 + i] == 0) CHECK(w[(b * 2 + h) * 16 + i] == 0.0f);
}

TEST_CASE("gradcheck: MultiHeadAttention with padding and causal masks together") {
  Generator gen(9);
  MultiHeadAttention mha(4, 2, {}, gen);
  const Tensor lens = lengths({2, 3});
  auto self = [&](const std::vector<Tensor>& in) {
    return mha(in[0], in[0], in[0], lens, AttentionMask::keep(causal_mask(3))).output;
  };
  GradcheckResult r = gradcheck_module(mha, self, {random_tensor({2, 3, 4}, 10, true)});
  CHECK_MESSAGE(r.ok, r.report);

  // Cross-attention: separate query, key and value, Lq != Lk, padded keys.
  auto cross = [&](const std::vector<Tensor>& in) { return mha(in[0], in[1], in[2], lens).output; };
  r = gradcheck_module(mha, cross,
                       {random_tensor({2, 2, 4}, 11, true), random_tensor({2, 3, 4}, 12, true),
                        random_tensor({2, 3, 4}, 13, true)});
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("MultiHeadAttention: parameter names and every parameter receives a gradient") {
  Generator gen(14);
  MultiHeadAttention mha(4, 2, {}, gen);
  std::vector<std::string> names;
  for (const auto& [name, p] : mha.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"w_q.weight", "w_q.bias", "w_k.weight", "w_k.bias",
                                          "w_v.weight", "w_v.bias", "w_o.weight", "w_o.bias"});
  const Tensor x = random_tensor({2, 3, 4}, 15);
  (mha(x, x, x, lengths({2, 3})).output * random_tensor({2, 3, 4}, 16)).sum().backward();
  for (const auto& [name, p] : mha.named_parameters()) {
    INFO("parameter ", name);
    REQUIRE(p.grad().defined());
    CHECK(sum(abs(p.grad())).item() > 0.0f);
  }
}

TEST_CASE("padding does not change the outputs at real positions") {
  Generator gen(17);
  MultiHeadAttention mha(4, 2, {}, gen);
  const Tensor alone = random_tensor({1, 2, 4}, 18);
  // The same sequence padded to length 4 with junk, next to a full-length one.
  const Tensor padded =
      concat({concat({alone, random_tensor({1, 2, 4}, 19)}, 1), random_tensor({1, 4, 4}, 20)}, 0);
  const Tensor alone_out = mha(alone, alone, alone).output;
  const Tensor batch_out = mha(padded, padded, padded, lengths({2, 4})).output;
  check_close(narrow(narrow(batch_out, 0, 0, 1), 1, 0, 2).to_vector<float>(),
              alone_out.to_vector<float>());
}

TEST_CASE("causal: the output at position t does not change when later inputs change") {
  Generator gen(21);
  MultiHeadAttention mha(4, 2, {}, gen);
  const Tensor x = random_tensor({2, 4, 4}, 22);
  // Change positions 2 and 3 only.
  const Tensor changed = concat({narrow(x, 1, 0, 2), random_tensor({2, 2, 4}, 23)}, 1);
  const AttentionMask causal = AttentionMask::keep(causal_mask(4));
  const Tensor a = mha(x, x, x, {}, causal).output;
  const Tensor b = mha(changed, changed, changed, {}, causal).output;
  check_close(narrow(b, 1, 0, 2).to_vector<float>(), narrow(a, 1, 0, 2).to_vector<float>());
  CHECK(narrow(b, 1, 2, 2).to_vector<float>() != narrow(a, 1, 2, 2).to_vector<float>());
}

TEST_CASE("a fully masked query row gives w_o's bias (zero without bias), no NaN, no gradient") {
  Generator gen(24);
  for (bool bias : {true, false}) {
    CAPTURE(bias);
    MultiHeadAttentionOptions options;
    options.bias = bias;
    MultiHeadAttention mha(4, 2, options, gen);
    const Tensor query = random_tensor({2, 2, 4}, 25, true);
    const Tensor key = random_tensor({2, 3, 4}, 26, true),
                 value = random_tensor({2, 3, 4}, 27, true);
    const AttentionResult r = mha(query, key, value, lengths({0, 3}));  // batch 0: no keys
    CHECK(all_finite(r.output));
    const std::vector<float> out = r.output.to_vector<float>();
    const std::vector<float> b = bias ? mha.w_o.bias.to_vector<float>() : std::vector<float>(4, 0);
    for (int i = 0; i < 2; ++i)
      for (int c = 0; c < 4; ++c) CHECK(out[i * 4 + c] == b[c]);
    CHECK(sum(narrow(r.weights, 0, 0, 1)).item() == 0.0f);

    (r.output * random_tensor({2, 2, 4}, 28)).sum().backward();
    for (const Tensor* t : {&query, &key, &value}) {
      CHECK(all_finite(t->grad()));
      CHECK(sum(abs(narrow(t->grad(), 0, 0, 1))).item() == 0.0f);
      CHECK(sum(abs(narrow(t->grad(), 0, 1, 1))).item() > 0.0f);
    }
  }
}

// One head, every projection the identity, no bias: the output is attention itself, so the
// values can be worked out by hand. q = k = v = x = [[2, 0], [0, 2], [2, 2]], scores = x x^T / r,
// r = sqrt 2. PyTorch's key_padding_mask [[False, True, False]] (True = padding) removes key 1:
//   query 0: scores [4, -, 4] / r    -> weights [1/2, 0, 1/2]  -> output (x0 + x2) / 2 = [2, 1]
//   query 1: scores [0, -, 4] / r    -> weights [a, 0, b], b = e^s / (1 + e^s), a = 1 - b,
//                                       s = 4 / r                -> a x0 + b x2 = [2, 2b]
//   query 2: scores [4, -, 8] / r    -> the same difference s: [a, 0, b] -> [2, 2b]
// Read the other way round (as a keep-mask) only key 1 would be attended: every output x1.
TEST_CASE("a PyTorch mask (True = masked out) as AttentionMask::exclude gives PyTorch's result") {
  Generator gen(31);
  MultiHeadAttentionOptions options;
  options.bias = false;
  MultiHeadAttention mha(2, 1, options, gen);
  const std::vector<float> identity{1, 0, 0, 1};
  for (const Linear* linear : {&mha.w_q, &mha.w_k, &mha.w_v, &mha.w_o})
    backend_of(linear->weight).copy_from_host(linear->weight, identity.data());
  const Tensor x = from_vector({2, 0, 0, 2, 2, 2}, {1, 3, 2});
  const Tensor torch_padding = from_vector(std::vector<int32_t>{0, 1, 0}, {1, 3});

  const AttentionResult r = mha(x, x, x, AttentionMask::exclude(torch_padding));
  const double s = 4 / std::sqrt(2.0);
  const auto b = static_cast<float>(std::exp(s) / (1 + std::exp(s))), a = 1 - b;
  check_close(r.weights.to_vector<float>(), {0.5f, 0, 0.5f, a, 0, b, a, 0, b});
  check_close(r.output.to_vector<float>(), {2, 1, 2, 2 * b, 2, 2 * b});
  // The same tensor as a keep-mask means the opposite.
  check_close(mha(x, x, x, AttentionMask::keep(torch_padding)).output.to_vector<float>(),
              {0, 2, 0, 2, 0, 2});
}

TEST_CASE("a bare 0/1 mask tensor is ambiguous: an error that says to choose keep or exclude") {
  Generator gen(32);
  MultiHeadAttention mha(4, 2, {}, gen);
  const Tensor x = random_tensor({2, 3, 4}, 33);
  for (const Tensor& bare :
       {ones({2, 3}), ones({2, 3}, DType::Int32), ones({3, 3}, DType::Int32)}) {
    CAPTURE(to_string(bare.shape()));
    CHECK_THROWS_WITH_AS(mha(x, x, x, bare),
                         doctest::Contains("which is ambiguous: PyTorch's nn.MultiheadAttention "
                                           "reads True as masked out"),
                         Error);
    CHECK_THROWS_WITH_AS(mha(x, x, x, {}, bare),
                         doctest::Contains("Say which: AttentionMask::keep(mask) (nonzero = "
                                           "attend) or AttentionMask::exclude(mask)"),
                         Error);
  }
  CHECK_THROWS_WITH_AS(mha(x, x, x, ones({2, 3})),
                       doctest::Contains("attention mask: got a bare float32 [2,3] tensor"), Error);
  CHECK_THROWS_WITH_AS(AttentionMask::exclude(Tensor()),
                       doctest::Contains("AttentionMask::exclude: the mask is undefined"), Error);
}

TEST_CASE("MultiHeadAttention errors name the layer path, what was expected and what came") {
  Generator gen(29);
  CHECK_THROWS_WITH_AS(MultiHeadAttention(6, 4, {}, gen),
                       doctest::Contains("MultiHeadAttention: embed_dim 6 is not divisible by "
                                         "num_heads 4"),
                       Error);
  CHECK_THROWS_WITH_AS(MultiHeadAttention(4, 0, {}, gen),
                       doctest::Contains("num_heads must be positive, got 0"), Error);
  MultiHeadAttentionOptions bad_dropout;
  bad_dropout.dropout = -0.5f;
  CHECK_THROWS_WITH_AS(MultiHeadAttention(4, 2, bad_dropout, gen),
                       doctest::Contains("dropout must be in [0, 1), got -0.5"), Error);

  Holder holder(gen);
  const MultiHeadAttention& mha = holder.attn;
  const Tensor x = random_tensor({2, 3, 4}, 30);
  const std::string who = "MultiHeadAttention 'attn': ";
  CHECK_THROWS_WITH_AS(mha(random_tensor({2, 3, 5}, 1), x, x),
                       contains(who + "expected query [B, Lq, 4], got float32 [2,3,5]"), Error);
  CHECK_THROWS_WITH_AS(mha(random_tensor({3, 4}, 1), x, x),
                       doctest::Contains("expected query [B, Lq, 4], got float32 [3,4]"), Error);
  CHECK_THROWS_WITH_AS(mha(x, random_tensor({2, 3, 3}, 1), x),
                       contains(who + "expected key [2, Lk, 4], got float32 [2,3,3]"), Error);
  CHECK_THROWS_WITH_AS(mha(x, random_tensor({1, 3, 4}, 1), x),
                       doctest::Contains("expected key [2, Lk, 4], got float32 [1,3,4]"), Error);
  CHECK_THROWS_WITH_AS(mha(x, x, random_tensor({2, 2, 4}, 1)),
                       contains(who + "expected value [2,3,4] (Lk as in key), got "
                                      "float32 [2,2,4]"),
                       Error);
  CHECK_THROWS_WITH_AS(mha(x, x, x, lengths({1, 2, 3})),
                       contains(who + "key_padding as valid lengths must be int32 [B] "
                                      "= [2], got int32 [3]"),
                       Error);
  CHECK_THROWS_WITH_AS(mha(x, x, x, lengths({1, 4})),
                       contains(who + "key_padding_mask: valid length 4 at batch index 1 "
                                      "is out of range [0, 3]"),
                       Error);
  CHECK_THROWS_WITH_AS(mha(x, x, x, AttentionMask::keep(ones({2, 4}, DType::Int32))),
                       contains(who + "key_padding must be valid lengths int32 [B] or a "
                                      "mask [B, Lk] = [2,3], got the keep-mask int32 [2,4]"),
                       Error);
  CHECK_THROWS_WITH_AS(mha(x, x, x, {}, AttentionMask::keep(causal_mask(4))),
                       contains(who + "attn_mask must be a mask [Lq, Lk] = [3,3] or [B, "
                                      "Lq, Lk] = [2,3,3], got the keep-mask int32 [4,4]"),
                       Error);
  CHECK_THROWS_WITH_AS(mha(x, x, x, AttentionMask::exclude(ones({2, 4}, DType::Int32))),
                       contains(who + "key_padding must be valid lengths int32 [B] or a "
                                      "mask [B, Lk] = [2,3], got the exclude-mask int32 [2,4]"),
                       Error);
  CHECK_THROWS_WITH_AS(mha(x, x, x, {}, lengths({1, 2})),
                       contains(who + "attn_mask takes AttentionMask::keep or "
                                      "AttentionMask::exclude of [Lq, Lk] or [B, Lq, Lk]; valid "
                                      "lengths belong in key_padding, got int32 [2]"),
                       Error);
}
