// What the layer and training parity suites share: a layer built on both devices from one seed,
// the comparisons of its outputs, gradients and parameters, and a small encoder-decoder with its
// batch. See test_layer_parity.cpp and test_training_parity.cpp.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "framework/tapegrad.h"
#include "layers/layers.h"
#include "tests/cuda/parity_checks.h"

namespace tg::testing {

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

inline Tensor random_input(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, gen);
}

inline Tensor valid_lengths(const std::vector<int32_t>& values) {
  return from_vector(values, {static_cast<int64_t>(values.size())});
}

// The same tensors on both devices. Float32 ones become leaves that require grad, so that their
// gradients can be compared; int32 ones (ids, lengths, masks) are only copied.
struct Inputs {
  std::vector<Tensor> cpu, gpu;
};

inline Inputs on_both(const std::vector<Tensor>& tensors) {
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
inline void check_gradients_match(const Module& cpu, const Module& gpu, const std::string& what) {
  for_each_parameter_pair(cpu, gpu, [&](const std::string& name, const Tensor& c, const Tensor& g) {
    const std::string where = what + ": gradient of " + name;
    REQUIRE_MESSAGE(c.grad().defined(), where, " is missing on the CPU");
    REQUIRE_MESSAGE(g.grad().defined(), where, " is missing on the GPU");
    check_matches(c.grad(), g.grad(), where);
  });
}

inline void check_values_match(const Module& cpu, const Module& gpu, const std::string& what) {
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
inline constexpr auto call_unary = [](auto& layer, const std::vector<Tensor>& in) {
  return std::vector<Tensor>{layer(in[0])};
};
inline constexpr auto call_binary = [](auto& layer, const std::vector<Tensor>& in) {
  return std::vector<Tensor>{layer(in[0], in[1])};
};

// Both copies dropped the same elements: exactly the zeros of the output, as the inputs (random
// normals, plus positions) are never zero. The mask must drop some elements and keep some, or
// the comparison would say nothing.
inline void check_same_mask(const Tensor& cpu, const Tensor& gpu, const std::string& what) {
  const Tensor kept_cpu = ne(cpu, zeros_like(cpu));
  check_matches(kept_cpu, ne(gpu, zeros_like(gpu)), what + ": dropout mask");
  const std::vector<int32_t> kept = kept_cpu.to_vector<int32_t>();
  const auto dropped = std::count(kept.begin(), kept.end(), 0);
  CHECK_MESSAGE(dropped > 0, what, ": the mask dropped nothing");
  CHECK_MESSAGE(dropped < static_cast<int64_t>(kept.size()), what, ": the mask dropped everything");
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
        encoder(layers, kModel, 2, 32,
                {.dropout = kDropout, .norm_first = true, .activation = Activation::Gelu}, gen),
        decoder(layers, kModel, 2, 32,
                {.dropout = kDropout, .norm_first = true, .activation = Activation::Gelu}, gen),
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

inline Seq2SeqBatch seq2seq_batch() {
  Seq2SeqBatch b;
  b.source =
      from_vector(std::vector<int32_t>{3, 7, 2, 9, 4, 5, 10, 6, 0, 0, 8, 3, 0, 0, 0}, {3, 5});
  b.source_lengths = valid_lengths({5, 3, 2});
  b.target_in = from_vector(std::vector<int32_t>{1, 4, 9, 2, 1, 6, 0, 0, 1, 10, 3, 0}, {3, 4});
  b.target_lengths = valid_lengths({4, 2, 3});
  b.target_out = from_vector(std::vector<int32_t>{4, 9, 2, 5, 6, 7, 0, 0, 10, 3, 8, 0}, {3, 4});
  return b;
}

}  // namespace tg::testing
