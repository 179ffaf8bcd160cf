// CPU/CUDA parity of every layer (issue #7); the optimizers and whole training steps are in
// test_training_parity.cpp.
//
// Layers: each is built twice from the same seed and one copy is moved to the GPU; both run
// forward and backward on the same random inputs, and the GPU's outputs, input gradients and
// every parameter's gradient (by name) must match the CPU's within kTolerance. Dropout runs in
// training mode throughout: each copy draws from its own generator, seeded alike, so the masks
// must come out the same on both devices too.
//
// Runs only where a GPU is usable; elsewhere cuda_main.cpp reports the whole suite as skipped.
// Sizes stay small because the suite also runs on the CPU emulator of CUDA, which runs every GPU
// thread as a fiber.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "framework/tapegrad.h"
#include "layers/layers.h"
#include "optim/optim.h"
#include "tests/cuda/layer_parity.h"

namespace tg {
namespace {

using namespace testing;  // layer_parity.h and parity_checks.h

// ---- layers ----

TEST_CASE("layer parity: Linear, with and without bias, on 2-D and 3-D inputs") {
  LayerPair with_bias(1, [](Generator& gen) { return Linear(6, 5, true, gen); });
  check_layer("Linear", with_bias, {random_input({4, 6}, 2)}, call_unary);
  LayerPair without_bias(3, [](Generator& gen) { return Linear(6, 5, false, gen); });
  check_layer("Linear without bias", without_bias, {random_input({2, 3, 6}, 4)}, call_unary);
}

TEST_CASE("layer parity: Embedding with repeated ids and a padding id") {
  // Repeated ids add their gradients into one row (concurrently on the GPU); id 0 is padding,
  // whose row must get exactly no gradient on either device.
  LayerPair table(5, [](Generator& gen) { return Embedding(11, 6, 0, gen); });
  const Tensor ids = from_vector(std::vector<int32_t>{3, 0, 7, 3, 10, 0, 3, 1}, {2, 4});
  check_layer("Embedding", table, {ids}, call_unary);
  CHECK(select(table.gpu.weight.grad(), 0, 0).to_vector<float>() == std::vector<float>(6, 0.0f));
}

TEST_CASE("layer parity: LayerNorm, affine over a short row and plain over a long one") {
  LayerPair affine(0, [](Generator&) { return LayerNorm(7); });
  randomize_parameters(affine, 6);
  check_layer("LayerNorm", affine, {random_input({3, 4, 7}, 7)}, call_unary);
  // 200 features: the row statistics need more than one warp's reduction.
  LayerPair plain(0, [](Generator&) { return LayerNorm(200, 1e-3f, false); });
  check_layer("LayerNorm without affine", plain, {random_input({4, 200}, 8)}, call_unary);
}

TEST_CASE("layer parity: Dropout in training draws the same masks on both devices") {
  LayerPair drop(9, [](Generator& gen) { return Dropout(0.3f, gen); });
  const Outputs first = check_layer("Dropout", drop, {random_input({8, 12}, 10)}, call_unary);
  check_same_mask(first.cpu[0], first.gpu[0], "Dropout");
  // A second call draws a fresh mask: both generators must have advanced alike.
  const Outputs second =
      check_layer("Dropout, second call", drop, {random_input({8, 12}, 10)}, call_unary);
  check_same_mask(second.cpu[0], second.gpu[0], "Dropout, second call");
}

template <class Act>
void check_activation(const std::string& name, uint64_t seed) {
  LayerPair layer(seed, [](Generator&) { return Act(); });
  check_layer(name, layer, {random_input({5, 9}, seed)}, call_unary);
}

TEST_CASE("layer parity: the activation modules") {
  check_activation<ReLU>("ReLU", 11);
  check_activation<GELU>("GELU", 12);
  check_activation<Tanh>("Tanh", 13);
  check_activation<Sigmoid>("Sigmoid", 14);
}

TEST_CASE("layer parity: FeedForward with GELU and with ReLU, dropout on the hidden layer") {
  for (Activation activation : {Activation::Gelu, Activation::Relu}) {
    LayerPair ff(
        15, [activation](Generator& gen) { return FeedForward(6, 16, 0.2f, activation, gen); });
    check_layer(std::string("FeedForward ") + to_string(activation), ff,
                {random_input({2, 3, 6}, 16)}, call_unary);
  }
}

// A Sequential holding each kind of unary child, filled in its constructor (a built Module can
// be neither copied nor moved out of a function).
struct SmallMlp : Sequential {
  explicit SmallMlp(Generator& gen) {
    add<Linear>(6, 12, true, gen);
    add<LayerNorm>(12);
    add<GELU>();
    add<Dropout>(0.25f, gen);
    add<Linear>(12, 4, true, gen);
    add<Tanh>();
  }
};

TEST_CASE("layer parity: Sequential") {
  LayerPair mlp(17, [](Generator& gen) { return SmallMlp(gen); });
  check_layer("Sequential", mlp, {random_input({5, 6}, 18)}, call_unary);
}

TEST_CASE("layer parity: LSTMCell, two steps from a given state and one from zeros") {
  LayerPair cell(19, [](Generator& gen) { return LSTMCell(5, 4, true, gen); });
  // The second step's gradient flows back through the first step's state: the fused cell's
  // backward runs with a nonzero incoming gradient of c.
  const auto run = [](LSTMCell& c, const std::vector<Tensor>& in) {
    const LSTMState first = c(in[0], {in[2], in[3]});
    const LSTMState second = c(in[1], first);
    const LSTMState from_zeros = c(in[1]);
    return std::vector<Tensor>{second.h, second.c, from_zeros.h, from_zeros.c};
  };
  check_layer("LSTMCell", cell,
              {random_input({3, 5}, 20), random_input({3, 5}, 21), random_input({3, 4}, 22),
               random_input({3, 4}, 23)},
              run);
}

TEST_CASE("layer parity: LSTM, two bidirectional layers over padded sequences") {
  LSTMOptions options;
  options.num_layers = 2;
  options.dropout = 0.25f;  // between the layers: the same mask on both devices
  options.bidirectional = true;
  LayerPair lstm(24, [options](Generator& gen) { return LSTM(4, 6, options, gen); });
  const auto run = [](LSTM& l, const std::vector<Tensor>& in) {
    const LSTMOutput out = l(in[0], {in[2], in[3]}, in[1]);
    return std::vector<Tensor>{out.output, out.h, out.c};
  };
  // Lengths 5, 2 and 4 of 5 steps: padded steps carry the state, output zero and pass no
  // gradient back, and the backward direction starts at each sequence's own last step.
  check_layer("LSTM", lstm,
              {random_input({3, 5, 4}, 25), valid_lengths({5, 2, 4}), random_input({4, 3, 6}, 26),
               random_input({4, 3, 6}, 27)},
              run);
}

TEST_CASE("layer parity: LSTM, time-major, without bias, from a zero state") {
  LSTMOptions options;
  options.batch_first = false;
  options.bias = false;
  LayerPair lstm(28, [options](Generator& gen) { return LSTM(4, 5, options, gen); });
  const auto run = [](LSTM& l, const std::vector<Tensor>& in) {
    const LSTMOutput out = l(in[0]);
    return std::vector<Tensor>{out.output, out.h, out.c};
  };
  check_layer("LSTM time-major", lstm, {random_input({6, 2, 4}, 29)}, run);
}

// output and weights of an attention.
std::vector<Tensor> both_results(const AttentionResult& result) {
  return {result.output, result.weights};
}

TEST_CASE("layer parity: MultiHeadAttention across sources, with key padding by lengths") {
  MultiHeadAttentionOptions options;
  options.kdim = 6;
  options.vdim = 5;
  options.dropout = 0.2f;  // on the attention weights
  LayerPair attention(30,
                      [options](Generator& gen) { return MultiHeadAttention(8, 2, options, gen); });
  const auto run = [](MultiHeadAttention& a, const std::vector<Tensor>& in) {
    return both_results(a(in[0], in[1], in[2], in[3]));
  };
  // Valid lengths 5, 0 and 2: the second sequence has no key at all, so its queries get zero
  // weights and pass no gradient back, on both devices, never NaN.
  check_layer("MultiHeadAttention, key padding", attention,
              {random_input({3, 4, 8}, 31), random_input({3, 5, 6}, 32),
               random_input({3, 5, 5}, 33), valid_lengths({5, 0, 2})},
              run);
}

TEST_CASE("layer parity: MultiHeadAttention, causal self-attention with a padding keep-mask") {
  LayerPair attention(
      34, [](Generator& gen) { return MultiHeadAttention(8, 4, {.dropout = 0.1f}, gen); });
  const auto run = [](MultiHeadAttention& a, const std::vector<Tensor>& in) {
    const Tensor& x = in[0];
    return both_results(a(x, x, x, AttentionMask::keep(in[1]),
                          AttentionMask::keep(causal_mask(x.size(1), x.device()))));
  };
  // Both masks together: a key is attended only where the padding mask and the causal mask
  // both keep it.
  const Tensor keep =
      from_vector(std::vector<int32_t>{1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0}, {3, 5});
  check_layer("MultiHeadAttention, causal", attention, {random_input({3, 5, 8}, 35), keep}, run);
}

TEST_CASE("layer parity: MultiHeadAttention with a local window, padding and dropout") {
  LayerPair attention(36, [](Generator& gen) {
    return MultiHeadAttention(8, 2, {.dropout = 0.1f, .window = 1}, gen);
  });
  const auto run = [](MultiHeadAttention& a, const std::vector<Tensor>& in) {
    const Tensor& x = in[0];
    return both_results(a(x, x, x, AttentionMask::keep(in[1])));
  };
  const Tensor keep =
      from_vector(std::vector<int32_t>{1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0}, {3, 5});
  check_layer("MultiHeadAttention, window 1", attention, {random_input({3, 5, 8}, 37), keep}, run);
}

TEST_CASE("layer parity: AdditiveAttention with a padding mask") {
  LayerPair attention(36, [](Generator& gen) { return AdditiveAttention(4, 6, 5, 0.2f, gen); });
  const auto run = [](AdditiveAttention& a, const std::vector<Tensor>& in) {
    const Tensor mask = key_padding_mask(in[3], in[1].size(1)).squeeze(1);  // [B, 1, Lk]
    return both_results(a(in[0], in[1], in[2], AttentionMask::keep(mask)));
  };
  check_layer("AdditiveAttention", attention,
              {random_input({2, 3, 4}, 37), random_input({2, 5, 6}, 38),
               random_input({2, 5, 3}, 39), valid_lengths({5, 3})},
              run);
}

TEST_CASE("layer parity: sinusoidal positions with dropout, and learned positions") {
  LayerPair sinusoids(40, [](Generator& gen) { return PositionalEncoding(6, 16, 0.2f, gen); });
  const Outputs out =
      check_layer("PositionalEncoding", sinusoids, {random_input({2, 5, 6}, 41)}, call_unary);
  check_same_mask(out.cpu[0], out.gpu[0], "PositionalEncoding");
  // The table is a buffer: to() moves it with the module.
  check_matches(sinusoids.cpu.table, sinusoids.gpu.table, "PositionalEncoding: table");

  LayerPair learned(42, [](Generator& gen) { return LearnedPositionalEmbedding(16, 6, gen); });
  check_layer("LearnedPositionalEmbedding", learned, {random_input({2, 5, 6}, 43)}, call_unary);
}

TEST_CASE("layer parity: TransformerEncoderLayer, post-norm padded and pre-norm causal") {
  for (bool norm_first : {false, true}) {
    LayerPair layer(44, [norm_first](Generator& gen) {
      return TransformerEncoderLayer(
          8, 2, 16, {.dropout = 0.2f, .norm_first = norm_first, .activation = Activation::Gelu},
          gen);
    });
    // The pre-norm layer also gets a causal mask, as in a decoder-only model.
    const auto run = [norm_first](TransformerEncoderLayer& l, const std::vector<Tensor>& in) {
      const AttentionMask causal =
          norm_first ? AttentionMask::keep(causal_mask(in[0].size(1), in[0].device()))
                     : AttentionMask();
      return std::vector<Tensor>{l(in[0], in[1], causal)};
    };
    check_layer(norm_first ? "TransformerEncoderLayer pre-norm" : "TransformerEncoderLayer", layer,
                {random_input({3, 4, 8}, 45), valid_lengths({4, 2, 3})}, run);
  }
}

TEST_CASE("layer parity: TransformerDecoderLayer, post-norm and pre-norm, both paddings") {
  for (bool norm_first : {false, true}) {
    LayerPair layer(46, [norm_first](Generator& gen) {
      return TransformerDecoderLayer(
          8, 2, 16, {.dropout = 0.2f, .norm_first = norm_first, .activation = Activation::Gelu},
          gen);
    });
    const auto run = [](TransformerDecoderLayer& l, const std::vector<Tensor>& in) {
      return std::vector<Tensor>{l(in[0], in[1], in[2], in[3])};
    };
    // The memory is an input too: the cross-attention's gradient reaches it.
    check_layer(norm_first ? "TransformerDecoderLayer pre-norm" : "TransformerDecoderLayer", layer,
                {random_input({3, 4, 8}, 47), random_input({3, 5, 8}, 48), valid_lengths({4, 2, 3}),
                 valid_lengths({5, 3, 1})},
                run);
  }
}

TEST_CASE("layer parity: the loss modules") {
  SUBCASE("CrossEntropyLoss with an ignored class and label smoothing") {
    LayerPair loss(0, [](Generator&) {
      return CrossEntropyLoss({.ignore_index = 2, .label_smoothing = 0.1f});
    });
    const Tensor targets = from_vector(std::vector<int32_t>{0, 2, 6, 3, 2, 1}, {6});
    check_layer("CrossEntropyLoss", loss, {random_input({6, 7}, 49), targets}, call_binary);
  }
  SUBCASE("CrossEntropyLoss summed over a 3-D batch") {
    LayerPair loss(0, [](Generator&) { return CrossEntropyLoss({.reduction = Reduction::Sum}); });
    const Tensor targets = from_vector(std::vector<int32_t>{4, 0, 1, 3, 2, 2}, {2, 3});
    check_layer("CrossEntropyLoss summed", loss, {random_input({2, 3, 5}, 50), targets},
                call_binary);
  }
  SUBCASE("MSELoss, mean and per element") {
    // The target is a float input as well: it gets the opposite gradient.
    LayerPair mean(0, [](Generator&) { return MSELoss(); });
    check_layer("MSELoss", mean, {random_input({4, 3}, 51), random_input({4, 3}, 52)}, call_binary);
    LayerPair none(0, [](Generator&) { return MSELoss(Reduction::None); });
    check_layer("MSELoss per element", none, {random_input({4, 3}, 53), random_input({4, 3}, 54)},
                call_binary);
  }
  SUBCASE("SequenceLoss over padded targets") {
    LayerPair loss(0, [](Generator&) { return SequenceLoss(0, 0.1f); });
    const Tensor targets = from_vector(std::vector<int32_t>{3, 1, 4, 0, 2, 6, 0, 0}, {2, 4});
    check_layer("SequenceLoss", loss, {random_input({2, 4, 7}, 55), targets}, call_binary);
  }
}

TEST_CASE("layer parity: a whole Transformer, two encoder and two decoder layers") {
  LayerPair model(56, [](Generator& gen) { return TinySeq2Seq(2, gen); });
  const auto run = [](TinySeq2Seq& m, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{m.forward(in[0], in[1], in[2], in[3])};
  };
  check_layer("Transformer", model, seq2seq_batch().model_inputs(), run);
}

}  // namespace
}  // namespace tg
