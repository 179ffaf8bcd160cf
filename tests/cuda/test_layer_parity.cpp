// CPU/CUDA parity of every layer, the optimizers and whole training steps (issue #7).
//
// Layers: each is built twice from the same seed and one copy is moved to the GPU; both run
// forward and backward on the same random inputs, and the GPU's outputs, input gradients and
// every parameter's gradient (by name) must match the CPU's within kTolerance. Dropout runs in
// training mode throughout: each copy draws from its own generator, seeded alike, so the masks
// must come out the same on both devices too.
// Optimizers: a few steps from the same parameters and gradients on both devices.
// Training: a small Transformer and a small LSTM tagger train a few steps on each device; the
// losses, the gradients and every parameter must agree at the end.
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
#include "tests/cuda/parity_checks.h"

namespace tg {
namespace {

using testing::check_matches;
using testing::kTolerance;
using testing::weighted_sum;

// ---- a layer on both devices ----

// A layer built twice from generators with the same seed, the second copy then moved to the GPU.
// Initialisers draw on the CPU, so both copies start with the same weights; each copy keeps its
// own generator for dropout, in the same state, so both draw the same masks in the same order.
// make(Generator&) returns the layer by value: a Module cannot move, and C++17's guaranteed copy
// elision builds it in place, where its children's registrations stay valid.
template <class Layer>
class LayerPair {
  // Declared before the layers, which keep references to them, so initialised first.
  Generator cpu_gen_, gpu_gen_;

 public:
  template <class Make>
  LayerPair(uint64_t seed, Make make)
      : cpu_gen_(seed), gpu_gen_(seed), cpu(make(cpu_gen_)), gpu(make(gpu_gen_)) {
    gpu.to(Device::CUDA);
  }

  Layer cpu, gpu;
};
template <class Make>
LayerPair(uint64_t, Make) -> LayerPair<std::invoke_result_t<Make&, Generator&>>;

Tensor random_input(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, gen);
}

Tensor valid_lengths(const std::vector<int32_t>& values) {
  return from_vector(values, {static_cast<int64_t>(values.size())});
}

// The same tensors on both devices. Float32 ones become leaves that require grad, so that their
// gradients can be compared; int32 ones (ids, lengths, masks) are only copied.
struct Inputs {
  std::vector<Tensor> cpu, gpu;
};

Inputs on_both(const std::vector<Tensor>& tensors) {
  Inputs inputs;
  for (const Tensor& t : tensors) {
    Tensor cpu = t.clone(), gpu = t.to(Device::CUDA);
    if (t.dtype() == DType::Float32) {
      cpu.set_requires_grad();
      gpu.set_requires_grad();
    }
    inputs.cpu.push_back(cpu);
    inputs.gpu.push_back(gpu);
  }
  return inputs;
}

// Calls compare(name, on_cpu, on_gpu) for each parameter of two copies of a module, which must
// list the same names in the same order.
template <class Compare>
void for_each_parameter_pair(const Module& cpu, const Module& gpu, Compare compare) {
  const NamedTensors on_cpu = cpu.named_parameters(), on_gpu = gpu.named_parameters();
  REQUIRE(on_cpu.size() == on_gpu.size());
  for (size_t i = 0; i < on_cpu.size(); ++i) {
    REQUIRE(on_cpu[i].first == on_gpu[i].first);
    compare(on_cpu[i].first, on_cpu[i].second, on_gpu[i].second);
  }
}

// Every parameter's gradient, by name. The CPU copy must have a gradient for every parameter:
// two missing gradients would compare equal and prove nothing.
void check_gradients_match(const Module& cpu, const Module& gpu, const std::string& what) {
  for_each_parameter_pair(cpu, gpu, [&](const std::string& name, const Tensor& c, const Tensor& g) {
    const std::string where = what + ": gradient of " + name;
    REQUIRE_MESSAGE(c.grad().defined(), where, " is missing on the CPU");
    REQUIRE_MESSAGE(g.grad().defined(), where, " is missing on the GPU");
    check_matches(c.grad(), g.grad(), where);
  });
}

void check_values_match(const Module& cpu, const Module& gpu, const std::string& what) {
  for_each_parameter_pair(cpu, gpu, [&](const std::string& name, const Tensor& c, const Tensor& g) {
    check_matches(c, g, what + ": parameter " + name);
  });
}

// Overwrites every parameter of both copies with the same random values. LayerNorm starts at
// weight 1 and bias 0, under which a kernel that ignored (or swapped) them would pass.
template <class Layer>
void randomize_parameters(LayerPair<Layer>& layer, uint64_t seed) {
  Generator gen(seed);
  for_each_parameter_pair(
      layer.cpu, layer.gpu, [&](const std::string&, const Tensor& c, const Tensor& g) {
        const std::vector<float> values = randn(c.shape(), gen).to_vector<float>();
        backend_of(c).copy_from_host(c, values.data());
        backend_of(g).copy_from_host(g, values.data());
      });
}

struct Outputs {
  std::vector<Tensor> cpu, gpu;
};

// The heart of the layer cases. run(layer, inputs) returns the layer's outputs; it runs on the
// CPU copy, then on the GPU copy, each device doing its forward and then its backward (of a
// weighted sum of every differentiable output) before the other starts: backward() consumes
// everything the tape recorded. Then compares the outputs, the inputs' gradients and every
// parameter's gradient. Returns the outputs, for the checks of a layer's own.
template <class Layer, class Run>
Outputs check_layer(const std::string& what, LayerPair<Layer>& layer,
                    const std::vector<Tensor>& inputs, Run run) {
  const Inputs in = on_both(inputs);
  auto forward_backward = [&](Layer& copy, const std::vector<Tensor>& xs) {
    const std::vector<Tensor> ys = run(copy, xs);
    Tensor total;
    for (size_t i = 0; i < ys.size(); ++i) {
      if (!ys[i].requires_grad()) continue;
      const Tensor term = weighted_sum(ys[i], 1000 + i);
      total = total.defined() ? total + term : term;
    }
    REQUIRE_MESSAGE(total.defined(), what, ": no output is differentiable");
    total.backward();
    return ys;
  };
  Outputs out;
  out.cpu = forward_backward(layer.cpu, in.cpu);
  out.gpu = forward_backward(layer.gpu, in.gpu);

  REQUIRE(out.cpu.size() == out.gpu.size());
  for (size_t i = 0; i < out.cpu.size(); ++i)
    check_matches(out.cpu[i], out.gpu[i], what + ": output " + std::to_string(i));
  for (size_t i = 0; i < in.cpu.size(); ++i) {
    const std::string where = what + ": gradient of input " + std::to_string(i);
    REQUIRE_MESSAGE(in.cpu[i].grad().defined() == in.gpu[i].grad().defined(), where);
    if (in.cpu[i].grad().defined()) check_matches(in.cpu[i].grad(), in.gpu[i].grad(), where);
  }
  check_gradients_match(layer.cpu, layer.gpu, what);
  return out;
}

// run for the layers of one tensor in and one out, and for those of two in and one out (losses).
constexpr auto call_unary = [](auto& layer, const std::vector<Tensor>& in) {
  return std::vector<Tensor>{layer(in[0])};
};
constexpr auto call_binary = [](auto& layer, const std::vector<Tensor>& in) {
  return std::vector<Tensor>{layer(in[0], in[1])};
};

// Both copies dropped the same elements: exactly the zeros of the output, as the inputs (random
// normals, plus positions) are never zero. The mask must drop some elements and keep some, or
// the comparison would say nothing.
void check_same_mask(const Tensor& cpu, const Tensor& gpu, const std::string& what) {
  const Tensor kept_cpu = ne(cpu, zeros_like(cpu));
  check_matches(kept_cpu, ne(gpu, zeros_like(gpu)), what + ": dropout mask");
  const std::vector<int32_t> kept = kept_cpu.to_vector<int32_t>();
  const auto dropped = std::count(kept.begin(), kept.end(), 0);
  CHECK_MESSAGE(dropped > 0, what, ": the mask dropped nothing");
  CHECK_MESSAGE(dropped < static_cast<int64_t>(kept.size()), what, ": the mask dropped everything");
}

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
    const LSTMOutput out = l(in[0], in[1], {in[2], in[3]});
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
    return both_results(a(x, x, x, in[1], causal_mask(x.size(1), x.device())));
  };
  // Both masks together: a key is attended only where the padding mask and the causal mask
  // both keep it.
  const Tensor keep =
      from_vector(std::vector<int32_t>{1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0}, {3, 5});
  check_layer("MultiHeadAttention, causal", attention, {random_input({3, 5, 8}, 35), keep}, run);
}

TEST_CASE("layer parity: AdditiveAttention with a padding mask") {
  LayerPair attention(36, [](Generator& gen) { return AdditiveAttention(4, 6, 5, 0.2f, gen); });
  const auto run = [](AdditiveAttention& a, const std::vector<Tensor>& in) {
    const Tensor mask = key_padding_mask(in[3], in[1].size(1)).squeeze(1);  // [B, 1, Lk]
    return both_results(a(in[0], in[1], in[2], mask));
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
      return TransformerEncoderLayer(8, 2, 16, 0.2f, norm_first, gen);
    });
    // The pre-norm layer also gets a causal mask, as in a decoder-only model.
    const auto run = [norm_first](TransformerEncoderLayer& l, const std::vector<Tensor>& in) {
      const Tensor causal = norm_first ? causal_mask(in[0].size(1), in[0].device()) : Tensor();
      return std::vector<Tensor>{l(in[0], in[1], causal)};
    };
    check_layer(norm_first ? "TransformerEncoderLayer pre-norm" : "TransformerEncoderLayer", layer,
                {random_input({3, 4, 8}, 45), valid_lengths({4, 2, 3})}, run);
  }
}

TEST_CASE("layer parity: TransformerDecoderLayer, post-norm and pre-norm, both paddings") {
  for (bool norm_first : {false, true}) {
    LayerPair layer(46, [norm_first](Generator& gen) {
      return TransformerDecoderLayer(8, 2, 16, 0.2f, norm_first, gen);
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

// ---- the small Transformer of the training step ----

constexpr int64_t kVocab = 11, kPad = 0, kModel = 16;
constexpr float kDropout = 0.1f;

// An encoder-decoder as examples/g2p_transformer builds one: embeddings with a padding id,
// sinusoidal positions, pre-norm stacks (each with its final LayerNorm), an output projection,
// and dropout everywhere.
struct TinySeq2Seq : Module {
  Embedding source_embedding, target_embedding;
  PositionalEncoding source_positions, target_positions;
  TransformerEncoder encoder;
  TransformerDecoder decoder;
  Linear output;

  TinySeq2Seq(int64_t layers, Generator& gen)
      : Module("TinySeq2Seq"),
        source_embedding(kVocab, kModel, kPad, gen),
        target_embedding(kVocab, kModel, kPad, gen),
        source_positions(kModel, 16, kDropout, gen),
        target_positions(kModel, 16, kDropout, gen),
        encoder(layers, kModel, 2, 32, kDropout, /*norm_first=*/true, gen),
        decoder(layers, kModel, 2, 32, kDropout, /*norm_first=*/true, gen),
        output(kModel, kVocab, true, gen) {
    register_module("source_embedding", source_embedding);
    register_module("target_embedding", target_embedding);
    register_module("source_positions", source_positions);
    register_module("target_positions", target_positions);
    register_module("encoder", encoder);
    register_module("decoder", decoder);
    register_module("output", output);
  }

  // Logits [B, Lt, kVocab].
  Tensor forward(const Tensor& source, const Tensor& source_lengths, const Tensor& target_in,
                 const Tensor& target_lengths) {
    const Tensor memory = encoder(source_positions(source_embedding(source)), source_lengths);
    return output(decoder(target_positions(target_embedding(target_in)), memory, target_lengths,
                          source_lengths));
  }
};

// Three pairs padded with kPad: sources of 5, 3 and 2 tokens, targets of 4, 2 and 3.
struct Seq2SeqBatch {
  Tensor source, source_lengths, target_in, target_lengths, target_out;

  Seq2SeqBatch to(Device device) const {
    return {source.to(device), source_lengths.to(device), target_in.to(device),
            target_lengths.to(device), target_out.to(device)};
  }
  std::vector<Tensor> model_inputs() const {
    return {source, source_lengths, target_in, target_lengths};
  }
};

Seq2SeqBatch seq2seq_batch() {
  Seq2SeqBatch b;
  b.source =
      from_vector(std::vector<int32_t>{3, 7, 2, 9, 4, 5, 10, 6, 0, 0, 8, 3, 0, 0, 0}, {3, 5});
  b.source_lengths = valid_lengths({5, 3, 2});
  b.target_in = from_vector(std::vector<int32_t>{1, 4, 9, 2, 1, 6, 0, 0, 1, 10, 3, 0}, {3, 4});
  b.target_lengths = valid_lengths({4, 2, 3});
  b.target_out = from_vector(std::vector<int32_t>{4, 9, 2, 5, 6, 7, 0, 0, 10, 3, 8, 0}, {3, 4});
  return b;
}

TEST_CASE("layer parity: a whole Transformer, two encoder and two decoder layers") {
  LayerPair model(56, [](Generator& gen) { return TinySeq2Seq(2, gen); });
  const auto run = [](TinySeq2Seq& m, const std::vector<Tensor>& in) {
    return std::vector<Tensor>{m.forward(in[0], in[1], in[2], in[3])};
  };
  check_layer("Transformer", model, seq2seq_batch().model_inputs(), run);
}

// ---- optimizers ----

// Three parameters on both devices, in two groups (the second with its own lr and weight
// decay), take three steps of make(groups) with the same random gradients on both; after each
// step every parameter must match. On the second step the second parameter has no gradient: it
// is skipped and its step count falls behind the others' (Adam's bias correction then differs
// per parameter), and its momentum buffer starts a step late.
template <class Make>
void check_optimizer(const std::string& what, Make make) {
  const std::vector<Shape> shapes{{7, 5}, {5}, {3, 4, 2}};
  Generator init(60);
  std::vector<Tensor> cpu, gpu;
  for (const Shape& shape : shapes) {
    Tensor value = randn(shape, init);
    Tensor moved = value.to(Device::CUDA);
    cpu.push_back(value.set_requires_grad());
    gpu.push_back(moved.set_requires_grad());
  }
  const auto groups = [](const std::vector<Tensor>& p) {
    return std::vector<ParamGroup>{{.params = {p[0], p[1]}},
                                   {.params = {p[2]}, .lr = 0.02, .weight_decay = 0.05}};
  };
  auto cpu_optimizer = make(groups(cpu));
  auto gpu_optimizer = make(groups(gpu));

  Generator gradients(61);
  for (int step = 1; step <= 3; ++step) {
    for (size_t i = 0; i < shapes.size(); ++i) {
      const Tensor g = randn(shapes[i], gradients);
      if (step == 2 && i == 1) {
        cpu[i].zero_grad();
        gpu[i].zero_grad();
        continue;
      }
      cpu[i].set_grad(g);
      gpu[i].set_grad(g.to(Device::CUDA));
    }
    cpu_optimizer.step();
    gpu_optimizer.step();
    for (size_t i = 0; i < shapes.size(); ++i) {
      check_matches(
          cpu[i], gpu[i],
          what + ": parameter " + std::to_string(i) + " after step " + std::to_string(step));
    }
  }
}

TEST_CASE("optimizer parity: SGD plain, with momentum, dampening and weight decay, and Nesterov") {
  check_optimizer("SGD", [](ParamGroups p) { return SGD(std::move(p), {.lr = 0.1}); });
  check_optimizer("SGD with momentum", [](ParamGroups p) {
    return SGD(std::move(p), {.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .weight_decay = 0.01});
  });
  check_optimizer("SGD Nesterov", [](ParamGroups p) {
    return SGD(std::move(p), {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true});
  });
}

TEST_CASE("optimizer parity: Adam, Adam with AMSGrad, and AdamW") {
  check_optimizer(
      "Adam", [](ParamGroups p) { return Adam(std::move(p), {.lr = 0.01, .weight_decay = 0.1}); });
  check_optimizer("Adam AMSGrad", [](ParamGroups p) {
    return Adam(std::move(p), {.lr = 0.01, .beta2 = 0.9, .amsgrad = true});
  });
  check_optimizer("AdamW", [](ParamGroups p) {
    AdamWOptions options;
    options.lr = 0.01;
    options.weight_decay = 0.1;
    return AdamW(std::move(p), options);
  });
}

TEST_CASE("optimizer parity: RMSprop plain, and centered with momentum and weight decay") {
  check_optimizer("RMSprop", [](ParamGroups p) { return RMSprop(std::move(p), {.lr = 0.01}); });
  check_optimizer("RMSprop centered", [](ParamGroups p) {
    return RMSprop(std::move(p),
                   {.lr = 0.01, .weight_decay = 0.01, .momentum = 0.9, .centered = true});
  });
}

// The examples clip between backward() and step() on whichever device they train on.
TEST_CASE("optimizer parity: gradient clipping by norm and by value") {
  Generator gen(62);
  std::vector<Tensor> cpu, gpu;
  for (const Shape& shape : {Shape{6, 4}, Shape{4}, Shape{3, 5}}) {
    Tensor value = randn(shape, gen);
    Tensor moved = value.to(Device::CUDA);
    const Tensor g = randn(shape, gen);
    cpu.push_back(value.set_requires_grad());
    gpu.push_back(moved.set_requires_grad());
    cpu.back().set_grad(g);
    gpu.back().set_grad(g.to(Device::CUDA));
  }
  // The norm of 43 standard normals is about 6.5: clipping to 1 rescales every gradient.
  const double norm_cpu = clip_grad_norm(cpu, 1.0), norm_gpu = clip_grad_norm(gpu, 1.0);
  CHECK(norm_cpu > 1.0);
  CHECK_MESSAGE(std::fabs(norm_gpu - norm_cpu) <= kTolerance * norm_cpu, "norms ", norm_cpu,
                " and ", norm_gpu);
  for (size_t i = 0; i < cpu.size(); ++i)
    check_matches(cpu[i].grad(), gpu[i].grad(), "clip_grad_norm: gradient " + std::to_string(i));

  // After the rescaling the elements are about 0.15: a limit of 0.1 clamps some, not all.
  clip_grad_value(cpu, 0.1);
  clip_grad_value(gpu, 0.1);
  for (size_t i = 0; i < cpu.size(); ++i)
    check_matches(cpu[i].grad(), gpu[i].grad(), "clip_grad_value: gradient " + std::to_string(i));
}

// ---- whole training steps ----

// steps training steps of one batch: the loss, zero_grad, backward, the optimizer's step, the
// schedule's. Returns each step's loss.
template <class LossOf>
std::vector<Tensor> train(Optimizer& optimizer, LRSchedule& schedule, int steps, LossOf loss_of) {
  std::vector<Tensor> losses;
  for (int step = 0; step < steps; ++step) {
    const Tensor loss = loss_of();
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    schedule.step();
    losses.push_back(loss.detach());
  }
  return losses;
}

// Copies of every parameter's values, taken before training.
NamedTensors snapshot(const Module& module) {
  NamedTensors copies;
  for (const auto& [name, parameter] : module.named_parameters())
    copies.emplace_back(name, parameter.clone());
  return copies;
}

// The key projections' biases: softmax ignores a score added to every key alike, so their
// gradient is zero in exact arithmetic, rounding noise in float32.
bool is_key_bias(const std::string& name) {
  const std::string suffix = "w_k.bias";
  return name.size() >= suffix.size() &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// After both copies trained: the losses step by step, the last step's gradients and every
// parameter, by name. Every parameter must have moved on the CPU, as parameters that the
// optimizer never touched would match without proving anything; all but the key biases, which
// Adam's eps (below) keeps where they were.
template <class Model>
void check_training_matches(const std::string& what, const LayerPair<Model>& model,
                            const NamedTensors& initial, const std::vector<Tensor>& losses_cpu,
                            const std::vector<Tensor>& losses_gpu) {
  REQUIRE(losses_cpu.size() == losses_gpu.size());
  for (size_t step = 0; step < losses_cpu.size(); ++step)
    check_matches(losses_cpu[step], losses_gpu[step],
                  what + ": loss at step " + std::to_string(step));
  check_gradients_match(model.cpu, model.gpu, what + ", last step");
  check_values_match(model.cpu, model.gpu, what + ", after training");
  const NamedTensors trained = model.cpu.named_parameters();
  REQUIRE(trained.size() == initial.size());
  for (size_t i = 0; i < trained.size(); ++i) {
    if (is_key_bias(trained[i].first)) continue;
    CHECK_MESSAGE(trained[i].second.to_vector<float>() != initial[i].second.to_vector<float>(),
                  what, ": training left ", trained[i].first, " unchanged");
  }
}

// Adam's eps in the training steps is 1e-3, not 1e-8. The key biases' gradients (see
// is_key_bias) are rounding noise, and Adam's first step moves a parameter by about
// lr * g / (|g| + eps): with eps 1e-8, noise of 1e-9 on one device and -1e-9 on the other would
// move it by +-lr/10 in opposite directions, a mismatch without a mistake. With eps 1e-3 a step
// moves by at most lr / eps = 3 times a gradient's difference between the devices.
constexpr double kAdamEps = 1e-3;

TEST_CASE("training parity: two AdamW steps of a small Transformer with dropout") {
  // d_model 16, 2 heads, one encoder and one decoder layer, vocabulary 11, a batch of 3 padded
  // pairs. AdamW decays all but biases and LayerNorm weights; the cosine schedule changes the lr
  // between the steps.
  LayerPair model(63, [](Generator& gen) { return TinySeq2Seq(1, gen); });
  const NamedTensors initial = snapshot(model.cpu);
  const Seq2SeqBatch cpu_batch = seq2seq_batch();
  const auto run = [](TinySeq2Seq& m, const Seq2SeqBatch& b) {
    AdamWOptions options;
    options.lr = 3e-3;
    options.eps = kAdamEps;
    AdamW optimizer(param_groups_no_decay(m, 0.01), options);
    CosineAnnealingLR schedule(optimizer, /*period=*/4);
    return train(optimizer, schedule, 2, [&] {
      const Tensor logits = m.forward(b.source, b.source_lengths, b.target_in, b.target_lengths);
      return sequence_cross_entropy(logits, b.target_out, kPad, /*label_smoothing=*/0.1f);
    });
  };
  const std::vector<Tensor> losses_cpu = run(model.cpu, cpu_batch);
  const std::vector<Tensor> losses_gpu = run(model.gpu, cpu_batch.to(Device::CUDA));
  check_training_matches("Transformer training", model, initial, losses_cpu, losses_gpu);
}

constexpr int64_t kTags = 5;

// A tagger of padded sequences: embedding, two bidirectional LSTM layers with dropout between
// them, a linear map to tag logits at every step.
struct TinyTagger : Module {
  Embedding embedding;
  LSTM lstm;
  Linear output;

  explicit TinyTagger(Generator& gen)
      : Module("TinyTagger"),
        embedding(kVocab, 6, kPad, gen),
        lstm(6, 8, {.num_layers = 2, .dropout = 0.25f, .bidirectional = true}, gen),
        output(16, kTags, true, gen) {
    register_module("embedding", embedding);
    register_module("lstm", lstm);
    register_module("output", output);
  }

  // Logits [B, T, kTags].
  Tensor forward(const Tensor& ids, const Tensor& lengths) const {
    return output(lstm(embedding(ids), lengths).output);
  }
};

struct TaggedBatch {
  Tensor ids, lengths, tags;
  TaggedBatch to(Device device) const {
    return {ids.to(device), lengths.to(device), tags.to(device)};
  }
};

TEST_CASE("training parity: three Adam steps of an LSTM tagger with dropout") {
  LayerPair model(64, [](Generator& gen) { return TinyTagger(gen); });
  const NamedTensors initial = snapshot(model.cpu);
  // Sequences of 5, 2 and 4 tokens; padded steps have tag kPad, which the loss ignores.
  const TaggedBatch cpu_batch{
      from_vector(std::vector<int32_t>{4, 9, 2, 7, 3, 5, 8, 0, 0, 0, 10, 1, 6, 2, 0}, {3, 5}),
      valid_lengths({5, 2, 4}),
      from_vector(std::vector<int32_t>{1, 3, 2, 4, 1, 2, 2, 0, 0, 0, 4, 1, 3, 3, 0}, {3, 5})};
  const auto run = [](TinyTagger& m, const TaggedBatch& b) {
    // L2 weight decay through the gradient (Adam, not AdamW); the lr halves after each step.
    Adam optimizer(param_groups_no_decay(m, 1e-4), {.lr = 3e-3, .eps = kAdamEps});
    StepLR schedule(optimizer, /*step_size=*/1, /*gamma=*/0.5);
    return train(optimizer, schedule, 3,
                 [&] { return sequence_cross_entropy(m.forward(b.ids, b.lengths), b.tags, kPad); });
  };
  const std::vector<Tensor> losses_cpu = run(model.cpu, cpu_batch);
  const std::vector<Tensor> losses_gpu = run(model.gpu, cpu_batch.to(Device::CUDA));
  check_training_matches("LSTM training", model, initial, losses_cpu, losses_gpu);
}

}  // namespace
}  // namespace tg
