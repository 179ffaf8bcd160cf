// quantize_linears: every Linear of a model (attention projections included) to int8, outputs
// within a stated tolerance of the float model's, inference only, and quantized checkpoints:
// their size, an exact round trip, and the errors for mixing float and int8.
#include <doctest/doctest.h>

#include <cmath>

#include "framework/serialize.h"
#include "layer_checks.h"
#include "layers/feed_forward.h"
#include "layers/layer_norm.h"
#include "layers/model_checkpoint.h"
#include "layers/multi_head_attention.h"
#include "layers/quantize.h"
#include "optim/training_checkpoint.h"

using namespace tg;
using namespace tg::testing;

namespace {

// An attention block and a feed-forward: six Linear layers, two of them children of children.
struct Block : Module {
  MultiHeadAttention attention;
  FeedForward feed_forward;
  explicit Block(Generator& gen)
      : Module("Block"),
        attention(64, 4, {}, gen),
        feed_forward(64, 256, 0.0f, Activation::Gelu, gen) {
    register_module("attention", attention);
    register_module("feed_forward", feed_forward);
  }
  Tensor forward(const Tensor& x) const { return feed_forward(x + attention(x, x, x).output); }
};

// max |got - want| / max |want|: the error relative to the output's scale.
float relative_error(const Tensor& got, const Tensor& want) {
  const std::vector<float> g = got.to_vector<float>(), w = want.to_vector<float>();
  float error = 0, size = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    error = std::max(error, std::abs(g[i] - w[i]));
    size = std::max(size, std::abs(w[i]));
  }
  return error / size;
}

}  // namespace

TEST_CASE("quantize_linears quantizes every Linear, attention projections included") {
  Generator gen(1);
  Block block(gen);
  CHECK(quantize_linears(block) == 6);
  CHECK_FALSE(block.is_training());
  CHECK(block.attention.w_q.is_quantized());
  CHECK_FALSE(block.attention.w_q.weight.defined());
  CHECK(quantization_of(block) == Int8Activations::Float);
  // The weights left the parameters: biases remain; the int8 values and scales are buffers.
  CHECK(parameter_names(block) ==
        std::vector<std::string>{"attention.w_q.bias", "attention.w_k.bias", "attention.w_v.bias",
                                 "attention.w_o.bias", "feed_forward.up.bias",
                                 "feed_forward.down.bias"});
  const NamedTensors buffers = block.named_buffers();
  REQUIRE(buffers.size() == 12);
  CHECK(buffers[0].first == "attention.w_q.weight_int8");
  CHECK(buffers[1].first == "attention.w_q.weight_scale");
}

TEST_CASE("a quantized model's outputs stay within 2 percent of the float model's") {
  // The stated tolerance: max |y_int8 - y_float| <= 0.02 max |y_float| on random weights and
  // inputs, weight-only and dynamic (measured: 0.6% and 1.1%).
  Generator gen(2);
  Block block(gen);
  const Tensor x = randn({3, 10, 64}, gen);
  NoGradGuard inference;
  block.eval();
  const Tensor want = block.forward(x);
  quantize_linears(block, Int8Activations::Float);
  const float weight_only = relative_error(block.forward(x), want);
  set_int8_activations(block, Int8Activations::Dynamic);
  const float dynamic = relative_error(block.forward(x), want);
  MESSAGE("relative error: weight-only ", weight_only, ", dynamic ", dynamic);
  CHECK(weight_only > 0);  // the weights were rounded
  CHECK(weight_only < 0.02f);
  CHECK(dynamic > 0);
  CHECK(dynamic < 0.02f);
}

TEST_CASE("a quantized model refuses training, backward and a second quantization") {
  Generator gen(3);
  FeedForward feed_forward(8, 16, 0.0f, Activation::Relu, gen);
  quantize_linears(feed_forward);
  CHECK_THROWS_WITH_AS(quantize_linears(feed_forward),
                       "quantize_linears FeedForward: the model is already quantized to int8 (up "
                       "is); quantize the float model once",
                       Error);
  CHECK_THROWS_WITH_AS(feed_forward.up.quantize_int8(Int8Activations::Float),
                       "Linear 'up': already quantized to int8; quantizing again would round the "
                       "rounded weights",
                       Error);
  const Tensor x = randn({2, 8}, gen).set_requires_grad();
  CHECK_THROWS_WITH_AS(sum(feed_forward(x)).backward(),
                       doctest::Contains("an int8-quantized layer has no backward"), Error);
  feed_forward.train();
  CHECK_THROWS_WITH_AS(feed_forward(x),
                       "Linear 'up': quantized to int8 for inference, it cannot be trained; call "
                       "eval() before forward",
                       Error);
}

TEST_CASE("quantize_linears refuses a model without Linear layers") {
  LayerNorm norm(4);
  CHECK_THROWS_WITH_AS(quantize_linears(norm),
                       "quantize_linears LayerNorm: the model has no Linear layer to quantize",
                       Error);
  CHECK_THROWS_WITH_AS(set_int8_activations(norm, Int8Activations::Dynamic),
                       "set_int8_activations LayerNorm: the model is not quantized "
                       "(quantize_linears first)",
                       Error);
}

TEST_CASE("a quantized checkpoint is 3.5x smaller and loads back exactly") {
  Generator gen(4);
  Block block(gen);
  const size_t float_bytes = encode_checkpoint(model_checkpoint(block)).size();
  quantize_linears(block, Int8Activations::Dynamic);
  const Checkpoint saved = model_checkpoint(block);
  const size_t int8_bytes = encode_checkpoint(saved).size();
  MESSAGE("checkpoint: ", float_bytes, " bytes float, ", int8_bytes, " bytes int8");
  CHECK(static_cast<double>(float_bytes) / static_cast<double>(int8_bytes) >= 3.5);
  CHECK(saved.get_string("model.quantization") == kQuantizationScheme);
  CHECK(saved.get_string("model.quantization.activations") == "dynamic");

  const std::vector<uint8_t> bytes = encode_checkpoint(saved);
  const Checkpoint loaded = decode_checkpoint(bytes.data(), bytes.size(), "memory");
  Generator other_gen(99);  // other weights, overwritten by the load
  Block fresh(other_gen);
  quantize_like(loaded, fresh);
  load_into(loaded, fresh);
  CHECK(quantization_of(fresh) == Int8Activations::Dynamic);
  const Tensor x = randn({2, 5, 64}, gen);
  NoGradGuard inference;
  CHECK(fresh.forward(x).to_vector<float>() == block.forward(x).to_vector<float>());
}

TEST_CASE("load_into refuses to mix float and int8 models and checkpoints") {
  Generator gen(5);
  Block float_block(gen), int8_block(gen);
  quantize_linears(int8_block);
  const Checkpoint float_checkpoint = model_checkpoint(float_block);
  const Checkpoint int8_checkpoint = model_checkpoint(int8_block);
  CHECK_THROWS_WITH_AS(load_into(int8_checkpoint, float_block),
                       "load_into Block: checkpoint holds an int8-quantized model and the model is "
                       "float; quantize it first (quantize_like(checkpoint, model) does as the "
                       "checkpoint says)",
                       Error);
  CHECK_THROWS_WITH_AS(load_into(float_checkpoint, int8_block),
                       "load_into Block: the model is quantized to int8 and checkpoint holds float "
                       "weights; load them before quantizing",
                       Error);
  quantize_like(float_checkpoint, float_block);  // a float checkpoint: nothing to do
  CHECK_FALSE(quantization_of(float_block).has_value());
}

TEST_CASE("training does not resume from an int8 checkpoint") {
  Generator gen(6);
  FeedForward float_model(8, 16, 0.0f, Activation::Relu, gen),
      int8_model(8, 16, 0.0f, Activation::Relu, gen);
  quantize_linears(int8_model);
  Checkpoint int8_checkpoint = model_checkpoint(int8_model);
  int8_checkpoint.set_source("int8.tg");
  CHECK_THROWS_WITH_AS(restore(int8_checkpoint, TrainingState(&float_model)),
                       "restore from int8.tg: the checkpoint holds an int8-quantized model, for "
                       "inference only; training resumes from a float checkpoint",
                       Error);
}

TEST_CASE("a checkpoint with an unknown quantization is refused by name") {
  Checkpoint edited;
  edited.set_source("edited.tg");
  edited.set_string("model.quantization", "int4, per group");
  CHECK_THROWS_WITH_AS(quantization_of(edited),
                       "edited.tg: quantization 'int4, per group' is not the one this build reads "
                       "('int8, per output channel, symmetric')",
                       Error);
  edited.set_string("model.quantization", kQuantizationScheme);
  edited.set_string("model.quantization.activations", "fp16");
  CHECK_THROWS_WITH_AS(quantization_of(edited),
                       "edited.tg: model.quantization.activations must be float or dynamic, got "
                       "'fp16'",
                       Error);
}
