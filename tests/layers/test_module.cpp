// Module: dotted names of a nested model, parameter counts, train/eval, zero_grad, summary,
// duplicate names, paths in error messages, and gradcheck_module itself.
#include <doctest/doctest.h>

#include "layer_checks.h"
#include "layers/feed_forward.h"
#include "layers/layer_norm.h"
#include "layers/linear.h"
#include "layers/module_gradcheck.h"
#include "layers/sequential.h"

using namespace tg;
using namespace tg::testing;

namespace {

// A small model of every kind of nesting: a layer holding layers (ff), a list (blocks), a leaf.
struct Tiny : Module {
  FeedForward ff;
  ModuleList<> blocks;
  LayerNorm norm;

  explicit Tiny(Generator& gen) : Module("Tiny"), ff(4, 8, 0.5f, Activation::Gelu, gen), norm(4) {
    register_module("ff", ff);
    register_module("blocks", blocks);
    register_module("norm", norm);
    for (int i = 0; i < 2; ++i) blocks.emplace_back<Linear>(4, 4, true, gen);
  }
  Tensor forward(const Tensor& x) const {
    Tensor y = ff(x);
    for (size_t i = 0; i < blocks.size(); ++i) y = blocks.at<Linear>(i)(y);
    return norm(y);
  }
};

}  // namespace

TEST_CASE("named_parameters: own first, then children in registration order, dotted") {
  Generator gen(1);
  Tiny model(gen);
  CHECK(parameter_names(model) ==
        std::vector<std::string>{"ff.up.weight", "ff.up.bias", "ff.down.weight", "ff.down.bias",
                                 "blocks.0.weight", "blocks.0.bias", "blocks.1.weight",
                                 "blocks.1.bias", "norm.weight", "norm.bias"});
  // The handles are the layers' own tensors, not copies.
  CHECK(model.named_parameters()[4].second.id() == model.blocks.at<Linear>(0).weight.id());
  CHECK(model.parameters().size() == 10);
  CHECK(model.parameter_count() == (4 * 8 + 8 + 8 * 4 + 4) + 2 * (4 * 4 + 4) + (4 + 4));
  CHECK(model.named_buffers().empty());
  const auto children = model.named_children();
  REQUIRE(children.size() == 3);
  CHECK(children[1].first == "blocks");
  CHECK(children[1].second == &model.blocks);
}

TEST_CASE("train() and eval() reach every descendant") {
  Generator gen(2);
  Tiny model(gen);
  CHECK(model.ff.drop.is_training());
  model.eval();
  CHECK_FALSE(model.is_training());
  CHECK_FALSE(model.ff.drop.is_training());
  CHECK_FALSE(model.blocks.at<Linear>(1).is_training());
  model.train();
  CHECK(model.ff.drop.is_training());
  CHECK(model.norm.is_training());
}

TEST_CASE("every parameter gets a gradient, zero_grad clears them all") {
  Generator gen(3);
  Tiny model(gen);
  const Tensor x = randn({2, 3, 4}, gen);
  (model.forward(x) * randn({2, 3, 4}, gen)).sum().backward();
  CHECK(parameters_without_grad(model).empty());
  model.zero_grad();
  CHECK(parameters_without_grad(model).size() == 10);
}

TEST_CASE("the whole model passes gradcheck_module (dropout off in eval)") {
  Generator gen(4);
  Tiny model(gen);
  model.eval();
  const Tensor x = randn({2, 4}, gen).set_requires_grad();
  const GradcheckResult r = gradcheck_module(
      model, [&](const std::vector<Tensor>& in) { return model.forward(in[0]); }, {x});
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("summary lists every parameter with its shape, and the total") {
  Generator gen(5);
  Tiny model(gen);
  const std::string text = model.summary();
  CHECK(text.find("Tiny") == 0);
  for (const auto& [name, parameter] : model.named_parameters())
    CHECK(text.find(name) != std::string::npos);
  CHECK(text.find("[8,4]") != std::string::npos);
  CHECK(text.find("total: 124 parameters") != std::string::npos);
}

namespace {
struct TwoOfTheSameName : Module {
  TwoOfTheSameName() : Module("TwoOfTheSameName") {
    register_parameter("w", zeros({2}));
    register_parameter("w", zeros({2}));
  }
};
struct Holder : Module {
  Linear proj;
  Holder() : Module("Holder"), proj(64, 8) { register_module("proj", proj); }
};
struct Thief : Module {
  explicit Thief(Linear& stolen) : Module("Thief") { register_module("taken", stolen); }
};
}  // namespace

TEST_CASE("registering a name twice, or a child twice, throws") {
  CHECK_THROWS_WITH_AS(TwoOfTheSameName(),
                       doctest::Contains("TwoOfTheSameName: the name 'w' is already registered"),
                       Error);
  Holder holder;
  CHECK_THROWS_WITH_AS(Thief(holder.proj),
                       doctest::Contains("Thief: module 'taken' is already registered in Holder"),
                       Error);
}

TEST_CASE("path() and errors name the layer by where it sits") {
  Holder holder;
  CHECK(holder.path() == "Holder");
  CHECK(holder.proj.path() == "proj");
  CHECK_THROWS_WITH_AS(holder.proj(zeros({32, 10})),
                       doctest::Contains("Linear 'proj': expected input [..., 64], got [32,10]"),
                       Error);
  Generator gen(6);
  Tiny model(gen);
  CHECK(model.ff.up.path() == "ff.up");
  CHECK(model.blocks.at<Linear>(1).path() == "blocks.1");
  CHECK_THROWS_WITH_AS(model.forward(zeros({2, 3})),
                       doctest::Contains("Linear 'ff.up': expected input [..., 4], got [2,3]"),
                       Error);
  CHECK_THROWS_WITH_AS(model.blocks.at<Linear>(1)(zeros({5})),
                       doctest::Contains("Linear 'blocks.1': expected input [..., 4], got [5]"),
                       Error);
}

namespace {
// y = scale * x^2 with a deliberately wrong backward (2x forgotten): gradcheck_module must
// catch it and name the parameter.
struct WrongSquare : Module {
  Tensor scale;
  WrongSquare() : Module("WrongSquare") { scale = register_parameter("scale", ones({3})); }
  Tensor forward(const Tensor& x) const {
    const Tensor square = record("wrong_square", {x}, backend_of(x).binary(BinaryOp::Mul, x, x),
                                 {x}, [](const Saved& s, const Tensor& gy) -> Grads {
                                   return {gy * s[0]};  // should be 2 x gy
                                 });
    return scale * square;
  }
};
}  // namespace

TEST_CASE("gradcheck_module catches a wrong backward and restores gradients") {
  WrongSquare layer;
  const Tensor x = from_vector(std::vector<float>{1, -2, 3}, {3}).set_requires_grad();
  const GradcheckResult bad = gradcheck_module(
      layer, [&](const std::vector<Tensor>& in) { return layer.forward(in[0]); }, {x});
  CHECK_FALSE(bad.ok);
  CHECK(bad.report.find("input 0") != std::string::npos);

  // With x a constant only the parameter is checked, and its gradient (x^2) is right.
  const Tensor constant_x = x.detach();
  layer.forward(constant_x).sum().backward();
  const std::vector<float> before = layer.scale.grad().to_vector<float>();
  const GradcheckResult good = gradcheck_module(
      layer, [&](const std::vector<Tensor>& in) { return layer.forward(in[0]); }, {constant_x});
  CHECK_MESSAGE(good.ok, good.report);
  CHECK(good.report.find("parameter 'scale'") != std::string::npos);
  CHECK(layer.scale.grad().to_vector<float>() == before);
  CHECK(before == std::vector<float>{1, 4, 9});
}

TEST_CASE("device() is where the parameters are, CPU for a module without any") {
  Generator gen(3);
  Tiny model(gen);
  CHECK(model.device() == Device::CPU);
  model.to(Device::CPU);  // a move to where it already is changes nothing
  CHECK(model.device() == Device::CPU);
  ModuleList<> empty_list;
  CHECK(empty_list.parameters().empty());
  CHECK(empty_list.device() == Device::CPU);
}
