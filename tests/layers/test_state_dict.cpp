// Module::state_dict and load_state_dict: PyTorch's order and names, the live handles, a round
// trip into a fresh model giving identical outputs, strict errors naming the keys, and the
// non-strict report.
#include <doctest/doctest.h>

#include "layer_checks.h"
#include "layers/layer_norm.h"
#include "layers/linear.h"

using namespace tg;
using namespace tg::testing;

namespace {

struct Block : Module {
  Linear inner;
  Block(int64_t width, Generator& gen) : Module("Block"), inner(width, width, false, gen) {
    register_module("0", inner);
  }
};

// A parameter and a buffer of its own, a child, and a grandchild: every place a tensor can sit.
struct Scaled : Module {
  Tensor scale, offsets;
  Linear proj;
  Block blocks;
  LayerNorm norm;

  Scaled(Generator& gen, int64_t width = 3)
      : Module("Scaled"), proj(3, width, /*bias=*/true, gen), blocks(width, gen), norm(width) {
    scale = register_parameter("scale", randn({width}, gen));
    offsets = register_buffer("offsets", randn({width}, gen));
    register_module("proj", proj);
    register_module("blocks", blocks);
    register_module("norm", norm);
  }
  Tensor operator()(const Tensor& x) const { return norm(blocks.inner(proj(x)) * scale + offsets); }
};

std::vector<std::string> keys_of(const NamedTensors& state) {
  std::vector<std::string> keys;
  for (const auto& [name, tensor] : state) keys.push_back(name);
  return keys;
}

}  // namespace

TEST_CASE("state_dict: module by module, own parameters then own buffers then children") {
  Generator gen(1);
  Scaled model(gen);
  const NamedTensors state = model.state_dict();
  CHECK(keys_of(state) == std::vector<std::string>{"scale", "offsets", "proj.weight", "proj.bias",
                                                   "blocks.0.weight", "norm.weight", "norm.bias"});
  // Detached handles to the live storage, as in PyTorch: not on the tape, following the model.
  CHECK_FALSE(state[0].second.requires_grad());
  CHECK(state[0].second.storage() == model.scale.storage());
  CHECK(state[1].second.to_vector<float>() == model.offsets.to_vector<float>());
}

TEST_CASE("load_state_dict into a fresh model: the same tensors and identical outputs") {
  Generator gen_a(2), gen_b(3), gen_x(4);
  Scaled trained(gen_a), fresh(gen_b);
  const Tensor x = randn({2, 3}, gen_x);
  REQUIRE(trained(x).to_vector<float>() != fresh(x).to_vector<float>());

  const Tensor scale_handle = fresh.scale;  // e.g. held by an optimizer
  const LoadReport report = fresh.load_state_dict(trained.state_dict());
  CHECK(report.missing.empty());
  CHECK(report.unexpected.empty());
  CHECK(fresh(x).to_vector<float>() == trained(x).to_vector<float>());
  CHECK(fresh.offsets.to_vector<float>() == trained.offsets.to_vector<float>());
  // Loaded in place: every earlier handle sees the values, and they stay trainable.
  CHECK(scale_handle.to_vector<float>() == trained.scale.to_vector<float>());
  CHECK(fresh.scale.requires_grad());
  // A copy, not an alias: changing the source afterwards leaves the loaded model alone.
  set_values(trained.scale, {9.0f, 9.0f, 9.0f});
  CHECK(fresh.scale.to_vector<float>() != trained.scale.to_vector<float>());
}

TEST_CASE("load_state_dict strict: missing and unexpected keys are errors naming them") {
  Generator gen(5);
  Scaled model(gen);
  const std::vector<float> before = model.proj.weight.to_vector<float>();
  NamedTensors state = model.state_dict();
  NamedTensors changed;
  for (const auto& [name, tensor] : state)
    if (name != "norm.bias") changed.emplace_back(name, zeros_like(tensor));
  CHECK_THROWS_WITH_AS(model.load_state_dict(changed),
                       doctest::Contains("load_state_dict Scaled from the state dict: strict "
                                         "load: 1 tensor(s) missing from the checkpoint: "
                                         "'norm.bias'; nothing was loaded"),
                       Error);
  changed.emplace_back("norm.bias", zeros({3}));
  changed.emplace_back("head.weight", zeros({2, 2}));
  CHECK_THROWS_WITH_AS(model.load_state_dict(changed),
                       doctest::Contains("1 unexpected tensor(s) in the checkpoint: "
                                         "'head.weight'; nothing was loaded"),
                       Error);
  // All or nothing: the failed loads changed no tensor.
  CHECK(model.proj.weight.to_vector<float>() == before);
}

TEST_CASE("load_state_dict: a shape or dtype mismatch is an error even when not strict") {
  Generator gen_a(6), gen_b(7);
  Scaled narrow(gen_a, 3), wide(gen_b, 4);
  CHECK_THROWS_WITH_AS(narrow.load_state_dict(wide.state_dict(), /*strict=*/false),
                       doctest::Contains("'proj.weight': the checkpoint has float32 [4,3], the "
                                         "target is float32 [3,3]"),
                       Error);
  NamedTensors state = narrow.state_dict();
  state[1].second = zeros({3}, DType::Int32);
  CHECK_THROWS_WITH_AS(narrow.load_state_dict(state),
                       doctest::Contains("'offsets': the checkpoint has int32 [3], the target "
                                         "is float32 [3]"),
                       Error);
  NamedTensors twice = narrow.state_dict();
  twice.push_back(twice.front());
  CHECK_THROWS_WITH_AS(narrow.load_state_dict(twice),
                       doctest::Contains("load_state_dict Scaled: the key 'scale' appears twice"),
                       Error);
}

TEST_CASE("load_state_dict non-strict: loads what matches, returns what did not") {
  Generator gen_a(8), gen_b(9);
  Scaled source(gen_a), target(gen_b);
  NamedTensors state;
  for (const auto& [name, tensor] : source.state_dict())
    if (name.starts_with("proj.")) state.emplace_back(name, tensor);
  state.emplace_back("extra", zeros({1}));
  const std::vector<float> scale_before = target.scale.to_vector<float>();
  const LoadReport report = target.load_state_dict(state, /*strict=*/false);
  CHECK(report.missing == std::vector<std::string>{"scale", "offsets", "blocks.0.weight",
                                                   "norm.weight", "norm.bias"});
  CHECK(report.unexpected == std::vector<std::string>{"extra"});
  CHECK(target.proj.weight.to_vector<float>() == source.proj.weight.to_vector<float>());
  CHECK(target.proj.bias.to_vector<float>() == source.proj.bias.to_vector<float>());
  CHECK(target.scale.to_vector<float>() == scale_before);
}
