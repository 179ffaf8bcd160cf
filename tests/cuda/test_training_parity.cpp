// CPU/CUDA parity of the optimizers and of whole training steps (issue #7).
//
// Optimizers: a few steps from the same parameters and gradients on both devices, then gradient
// clipping. Training: a small Transformer and a small LSTM tagger train a few steps on each
// device; the losses, the gradients and every parameter must agree at the end.
//
// Runs only where a GPU is usable; elsewhere cuda_main.cpp reports the whole suite as skipped.
// It also runs on the CPU emulator of CUDA (tests/cuda_emulator), hence the small sizes.
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
    AdamW optimizer(param_groups_no_decay(m.named_parameters(), 0.01), options);
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
    Adam optimizer(param_groups_no_decay(m.named_parameters(), 1e-4),
                   {.lr = 3e-3, .eps = kAdamEps});
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
