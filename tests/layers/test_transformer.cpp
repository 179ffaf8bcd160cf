// Transformer encoder/decoder layers and stacks, in post-norm and pre-norm: the residual/norm
// wiring against the sublayers composed by hand, gradcheck of every input and parameter,
// parameter paths and gradients, padding and causality invariances, the kept cross-attention
// weights, dropout in train vs eval, and every error message.
#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "framework/tapegrad.h"
#include "layers/module_gradcheck.h"
#include "layers/transformer.h"
#include "tests/framework/helpers.h"

using namespace tg;
using tg::testing::all_finite;
using tg::testing::check_close;
using tg::testing::random_tensor;

namespace {

Tensor lengths(const std::vector<int32_t>& values) {
  return from_vector(values, {static_cast<int64_t>(values.size())});
}

// Rows [0, len) of batch item b: [1, len, E].
Tensor first_positions(const Tensor& x, int64_t b, int64_t len) {
  return narrow(narrow(x, 0, b, 1), 1, 0, len);
}

// A key projection's bias adds q . b_k to every score of a query's row, which softmax ignores:
// its gradient is zero but for rounding, and may come out exactly zero (it does with the FMA
// kernels of an AVX2 CPU). It must still have arrived.
bool is_key_bias(const std::string& name) {
  return name.size() >= 8 && name.compare(name.size() - 8, 8, "w_k.bias") == 0;
}

void check_every_parameter_has_gradient(const Module& module) {
  for (const auto& [name, p] : module.named_parameters()) {
    INFO("parameter ", name);
    REQUIRE(p.grad().defined());
    if (is_key_bias(name))
      CHECK(sum(abs(p.grad())).item() < 1e-4f);
    else
      CHECK(sum(abs(p.grad())).item() > 0.0f);
  }
}

struct Seq2Seq : Module {
  TransformerEncoder encoder;
  TransformerDecoder decoder;
  Seq2Seq(bool norm_first, Generator& gen)
      : Module("Seq2Seq"),
        encoder(2, 4, 2, 8,
                {.dropout = 0.1f, .norm_first = norm_first, .activation = Activation::Gelu}, gen),
        decoder(2, 4, 2, 8,
                {.dropout = 0.1f, .norm_first = norm_first, .activation = Activation::Gelu}, gen) {
    register_module("encoder", encoder);
    register_module("decoder", decoder);
  }
};

}  // namespace

TEST_CASE("encoder layer: post-norm and pre-norm residual wiring") {
  for (bool norm_first : {false, true}) {
    CAPTURE(norm_first);
    Generator gen(1);
    TransformerEncoderLayer layer(
        4, 2, 8, {.dropout = 0.1f, .norm_first = norm_first, .activation = Activation::Gelu}, gen);
    layer.eval();
    const Tensor x = random_tensor({2, 3, 4}, 2), lens = lengths({2, 3});
    auto attention = [&](const Tensor& h) { return layer.self_attn(h, h, h, lens).output; };
    Tensor want;
    if (norm_first) {
      const Tensor h = x + attention(layer.norm1(x));
      want = h + layer.ff(layer.norm2(h));
    } else {
      const Tensor h = layer.norm1(x + attention(x));
      want = layer.norm2(h + layer.ff(h));
    }
    const Tensor got = layer(x, lens);
    CHECK(got.shape() == Shape{2, 3, 4});
    check_close(got.to_vector<float>(), want.to_vector<float>());
  }
}

TEST_CASE("decoder layer: causal self-attention, cross-attention, feed-forward, both norms") {
  for (bool norm_first : {false, true}) {
    CAPTURE(norm_first);
    Generator gen(3);
    TransformerDecoderLayer layer(
        4, 2, 8, {.dropout = 0.1f, .norm_first = norm_first, .activation = Activation::Gelu}, gen);
    layer.eval();
    const Tensor x = random_tensor({2, 3, 4}, 4), memory = random_tensor({2, 5, 4}, 5);
    const Tensor tgt_lens = lengths({3, 2}), memory_lens = lengths({5, 3});
    auto self = [&](const Tensor& h) {
      return layer.self_attn(h, h, h, tgt_lens, AttentionMask::keep(causal_mask(3))).output;
    };
    auto cross = [&](const Tensor& h) {
      return layer.cross_attn(h, memory, memory, memory_lens).output;
    };
    Tensor want;
    if (norm_first) {
      Tensor h = x + self(layer.norm1(x));
      h = h + cross(layer.norm2(h));
      want = h + layer.ff(layer.norm3(h));
    } else {
      Tensor h = layer.norm1(x + self(x));
      h = layer.norm2(h + cross(h));
      want = layer.norm3(h + layer.ff(h));
    }
    const Tensor got = layer(x, memory, tgt_lens, memory_lens);
    CHECK(got.shape() == Shape{2, 3, 4});
    check_close(got.to_vector<float>(), want.to_vector<float>());
  }
}

TEST_CASE("gradcheck: encoder layer, post-norm and pre-norm, with key padding") {
  for (bool norm_first : {false, true}) {
    CAPTURE(norm_first);
    Generator gen(6);
    TransformerEncoderLayer layer(
        4, 2, 8, {.dropout = 0.0f, .norm_first = norm_first, .activation = Activation::Gelu}, gen);
    const Tensor lens = lengths({2, 3});
    auto f = [&](const std::vector<Tensor>& in) { return layer(in[0], lens); };
    const GradcheckResult r = gradcheck_module(layer, f, {random_tensor({2, 3, 4}, 7, true)});
    CHECK_MESSAGE(r.ok, r.report);
  }
}

TEST_CASE("gradcheck: decoder layer, post-norm and pre-norm, target and memory padding") {
  for (bool norm_first : {false, true}) {
    CAPTURE(norm_first);
    Generator gen(8);
    TransformerDecoderLayer layer(
        4, 2, 8, {.dropout = 0.0f, .norm_first = norm_first, .activation = Activation::Gelu}, gen);
    const Tensor tgt_lens = lengths({3, 2}), memory_lens = lengths({4, 2});
    auto f = [&](const std::vector<Tensor>& in) {
      return layer(in[0], in[1], tgt_lens, memory_lens);
    };
    const GradcheckResult r = gradcheck_module(
        layer, f, {random_tensor({2, 3, 4}, 9, true), random_tensor({2, 4, 4}, 10, true)});
    CHECK_MESSAGE(r.ok, r.report);
  }
}

TEST_CASE("stacks: parameter paths, final norm only with pre-norm, every parameter trained") {
  for (bool norm_first : {false, true}) {
    CAPTURE(norm_first);
    Generator gen(11);
    Seq2Seq model(norm_first, gen);
    std::set<std::string> names;
    for (const auto& [name, p] : model.named_parameters()) names.insert(name);
    CHECK(names.count("decoder.layers.1.cross_attn.w_q.weight") == 1);
    CHECK(names.count("encoder.layers.0.self_attn.w_o.bias") == 1);
    CHECK(names.count("encoder.layers.1.ff.up.weight") == 1);
    CHECK(names.count("decoder.layers.0.norm3.weight") == 1);
    CHECK(names.count("encoder.norm.weight") == (norm_first ? 1u : 0u));
    CHECK(names.count("decoder.norm.bias") == (norm_first ? 1u : 0u));
    CHECK(model.encoder.has_final_norm() == norm_first);
    CHECK(model.decoder.num_layers() == 2);

    const Tensor src = random_tensor({2, 4, 4}, 12), tgt = random_tensor({2, 3, 4}, 13);
    const Tensor src_lens = lengths({4, 2}), tgt_lens = lengths({3, 1});
    const Tensor memory = model.encoder(src, src_lens);
    const Tensor out = model.decoder(tgt, memory, tgt_lens, src_lens);
    CHECK(out.shape() == Shape{2, 3, 4});
    (out * random_tensor({2, 3, 4}, 14)).sum().backward();
    check_every_parameter_has_gradient(model);
  }
}

TEST_CASE("padding does not change the outputs at real positions (eval mode)") {
  for (bool norm_first : {false, true}) {
    CAPTURE(norm_first);
    Generator gen(15);
    Seq2Seq model(norm_first, gen);
    model.eval();
    const Tensor src = random_tensor({1, 3, 4}, 16), tgt = random_tensor({1, 2, 4}, 17);
    const Tensor alone = model.decoder(tgt, model.encoder(src), {}, {});

    // The same pair, padded with junk (source to 5, target to 4), beside a full-length pair.
    const Tensor src_batch =
        concat({concat({src, random_tensor({1, 2, 4}, 18)}, 1), random_tensor({1, 5, 4}, 19)}, 0);
    const Tensor tgt_batch =
        concat({concat({tgt, random_tensor({1, 2, 4}, 20)}, 1), random_tensor({1, 4, 4}, 21)}, 0);
    const Tensor src_lens = lengths({3, 5}), tgt_lens = lengths({2, 4});
    const Tensor memory = model.encoder(src_batch, src_lens);
    check_close(first_positions(memory, 0, 3).to_vector<float>(),
                model.encoder(src).to_vector<float>(), 1e-4f);
    const Tensor batch = model.decoder(tgt_batch, memory, tgt_lens, src_lens);
    check_close(first_positions(batch, 0, 2).to_vector<float>(), alone.to_vector<float>(), 1e-4f);
  }
}

TEST_CASE("causal: decoder output at position t ignores later targets") {
  Generator gen(22);
  TransformerDecoder decoder(
      2, 4, 2, 8, {.dropout = 0.0f, .norm_first = true, .activation = Activation::Gelu}, gen);
  const Tensor memory = random_tensor({2, 3, 4}, 23), tgt = random_tensor({2, 4, 4}, 24);
  const Tensor changed = concat({narrow(tgt, 1, 0, 2), random_tensor({2, 2, 4}, 25)}, 1);
  const Tensor a = decoder(tgt, memory), b = decoder(changed, memory);
  check_close(narrow(b, 1, 0, 2).to_vector<float>(), narrow(a, 1, 0, 2).to_vector<float>());
  CHECK(narrow(b, 1, 3, 1).to_vector<float>() != narrow(a, 1, 3, 1).to_vector<float>());

  // An encoder given a causal attn_mask is a decoder-only stack: the same property.
  TransformerEncoder lm(
      2, 4, 2, 8, {.dropout = 0.0f, .norm_first = false, .activation = Activation::Gelu}, gen);
  const Tensor la = lm(tgt, {}, AttentionMask::keep(causal_mask(4))),
               lb = lm(changed, {}, AttentionMask::keep(causal_mask(4)));
  check_close(narrow(lb, 1, 0, 2).to_vector<float>(), narrow(la, 1, 0, 2).to_vector<float>());
  CHECK(narrow(lb, 1, 2, 1).to_vector<float>() != narrow(la, 1, 2, 1).to_vector<float>());
}

TEST_CASE("decoder keeps its last cross-attention weights when asked") {
  Generator gen(26);
  TransformerDecoder decoder(
      2, 4, 2, 8, {.dropout = 0.0f, .norm_first = false, .activation = Activation::Gelu}, gen);
  const Tensor memory = random_tensor({2, 5, 4}, 27), tgt = random_tensor({2, 3, 4}, 28);
  decoder(tgt, memory, {}, lengths({5, 2}));
  CHECK_FALSE(decoder.layer(1).last_cross_attention.defined());

  decoder.keep_cross_attention(true);
  decoder(tgt, memory, {}, lengths({5, 2}));
  for (size_t i = 0; i < decoder.num_layers(); ++i) {
    const Tensor w = decoder.layer(i).last_cross_attention;
    REQUIRE(w.defined());
    CHECK(w.shape() == Shape{2, 2, 3, 5});
    CHECK_FALSE(w.requires_grad());
    check_close(sum(w, {-1}).to_vector<float>(), std::vector<float>(12, 1.0f));
    // Batch 1 has two real memory positions: positions 2..4 get nothing.
    CHECK(sum(narrow(narrow(w, 0, 1, 1), 3, 2, 3)).item() == 0.0f);
  }
  // The weights are those of the latest call.
  const std::vector<float> before = decoder.layer(0).last_cross_attention.to_vector<float>();
  decoder(tgt, random_tensor({2, 5, 4}, 29), {}, lengths({5, 2}));
  CHECK(decoder.layer(0).last_cross_attention.to_vector<float>() != before);
}

TEST_CASE("encoder keeps its last self-attention weights when asked") {
  Generator gen(35);
  TransformerEncoder encoder(2, 4, 2, 8, {.dropout = 0.0f}, gen);
  const Tensor x = random_tensor({2, 3, 4}, 36);
  encoder(x, lengths({3, 2}));
  CHECK_FALSE(encoder.layer(0).last_self_attention.defined());

  encoder.keep_self_attention(true);
  const Tensor out = encoder(x, lengths({3, 2}));
  for (size_t i = 0; i < encoder.num_layers(); ++i) {
    const Tensor w = encoder.layer(i).last_self_attention;
    REQUIRE(w.defined());
    CHECK(w.shape() == Shape{2, 2, 3, 3});
    CHECK_FALSE(w.requires_grad());
    check_close(sum(w, {-1}).to_vector<float>(), std::vector<float>(12, 1.0f));
    // Batch 1 has two real positions: key 2 gets nothing from any query.
    CHECK(sum(narrow(narrow(w, 0, 1, 1), 3, 2, 1)).item() == 0.0f);
  }
  // They are the weights the layer used: layer 0's are its self_attn's on the input.
  const TransformerEncoderLayer& first = encoder.layer(0);
  check_close(first.last_self_attention.to_vector<float>(),
              first.self_attn(x, x, x, lengths({3, 2})).weights.to_vector<float>());
  // Keeping them changes nothing in the output.
  encoder.keep_self_attention(false);
  CHECK(encoder(x, lengths({3, 2})).to_vector<float>() == out.to_vector<float>());
}

TEST_CASE("the feed-forward activation is an option: ReLU by default, as in PyTorch") {
  Generator gen(37);
  TransformerEncoderLayer relu_layer(4, 2, 8, {}, gen);
  TransformerDecoderLayer gelu_layer(4, 2, 8, {.activation = Activation::Gelu}, gen);
  TransformerEncoder tanh_gelu(1, 4, 2, 8, {.activation = Activation::GeluTanh}, gen);
  CHECK(relu_layer.ff.activation == Activation::Relu);
  CHECK(gelu_layer.ff.activation == Activation::Gelu);
  CHECK(tanh_gelu.layer(0).ff.activation == Activation::GeluTanh);
  // PyTorch's other defaults: dropout 0.1, post-norm.
  CHECK(relu_layer.dropout.p == doctest::Approx(0.1f));
  CHECK_FALSE(relu_layer.norm_first);
  // The activation is the one the layer runs: h = up(x) has negative entries relu zeroes.
  relu_layer.eval();
  const Tensor x = random_tensor({2, 3, 4}, 38);
  const Tensor h = relu_layer.norm1(x + relu_layer.self_attn(x, x, x).output);
  const Tensor ff = matmul(relu(relu_layer.ff.up(h)), relu_layer.ff.down.weight, false, true) +
                    relu_layer.ff.down.bias;
  check_close(relu_layer(x).to_vector<float>(), relu_layer.norm2(h + ff).to_vector<float>());
}

TEST_CASE("dropout acts in training only, eval is deterministic") {
  Generator gen(30);
  TransformerEncoder encoder(
      2, 4, 2, 8, {.dropout = 0.5f, .norm_first = false, .activation = Activation::Gelu}, gen);
  const Tensor x = random_tensor({2, 3, 4}, 31);
  const std::vector<float> train_a = encoder(x).to_vector<float>();
  const std::vector<float> train_b = encoder(x).to_vector<float>();
  CHECK(train_a != train_b);
  encoder.eval();
  const std::vector<float> eval_a = encoder(x).to_vector<float>();
  CHECK(eval_a == encoder(x).to_vector<float>());
  CHECK(eval_a != train_a);
}

TEST_CASE("transformer errors name the layer path, what was expected and what came") {
  Generator gen(32);
  CHECK_THROWS_WITH_AS(
      TransformerEncoder(
          0, 4, 2, 8, {.dropout = 0.1f, .norm_first = false, .activation = Activation::Gelu}, gen),
      doctest::Contains("TransformerEncoder: num_layers must be at least 1, "
                        "got 0"),
      Error);
  CHECK_THROWS_WITH_AS(
      TransformerDecoder(
          0, 4, 2, 8, {.dropout = 0.1f, .norm_first = false, .activation = Activation::Gelu}, gen),
      doctest::Contains("TransformerDecoder: num_layers must be at least 1"), Error);
  CHECK_THROWS_WITH_AS(
      TransformerEncoderLayer(
          6, 4, 8, {.dropout = 0.1f, .norm_first = false, .activation = Activation::Gelu}, gen),
      doctest::Contains("embed_dim 6 is not divisible by num_heads 4"), Error);

  Seq2Seq model(false, gen);
  const Tensor src = random_tensor({2, 3, 4}, 33), tgt = random_tensor({2, 2, 4}, 34);
  CHECK_THROWS_WITH_AS(model.encoder(random_tensor({2, 3, 5}, 1)),
                       doctest::Contains("TransformerEncoderLayer 'encoder.layers.0': expected x "
                                         "[B, L, 4], got [2,3,5]"),
                       Error);
  CHECK_THROWS_WITH_AS(model.decoder(random_tensor({2, 2, 3}, 1), src),
                       doctest::Contains("TransformerDecoderLayer 'decoder.layers.0': expected x "
                                         "[B, Lt, 4], got [2,2,3]"),
                       Error);
  CHECK_THROWS_WITH_AS(model.decoder(tgt, random_tensor({1, 3, 4}, 1)),
                       doctest::Contains("TransformerDecoderLayer 'decoder.layers.0': expected "
                                         "memory [2, Ls, 4] (batch as in x), got [1,3,4]"),
                       Error);
  CHECK_THROWS_WITH_AS(model.encoder(src, AttentionMask::exclude(ones({2, 5}, DType::Int32))),
                       doctest::Contains("MultiHeadAttention 'encoder.layers.0.self_attn': "
                                         "key_padding must be valid lengths"),
                       Error);
  // A bare 0/1 mask is refused before it reaches a layer: which way round is it?
  CHECK_THROWS_WITH_AS(model.encoder(src, ones({2, 3}, DType::Int32)),
                       doctest::Contains("attention mask: got a bare int32 [2,3] tensor, which "
                                         "is ambiguous"),
                       Error);
  CHECK_THROWS_WITH_AS(model.decoder(tgt, src, {}, lengths({3, 4})),
                       doctest::Contains("MultiHeadAttention 'decoder.layers.0.cross_attn': "
                                         "key_padding_mask: valid length 4 at batch index 1 is "
                                         "out of range [0, 3]"),
                       Error);
}
