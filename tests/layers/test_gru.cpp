// GRUCell and GRU: the cell against PyTorch's equations worked in double by hand, the whole GRU
// (2 layers, bidirectional, unequal lengths, h0) against PyTorch's own output (the fixture
// written by fixtures/gru_reference.py, loaded through load_state_dict by PyTorch's names),
// gradcheck of both, the variable-length contract, the argument forms, every parameter's
// gradient and the error messages.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "framework/tapegrad.h"
#include "layers/gru.h"
#include "layers/module_gradcheck.h"
#include "tests/framework/helpers.h"
#include "tests/layers/fixtures/gru_reference.h"

using namespace tg;
using tg::testing::check_close;
using tg::testing::random_tensor;

namespace {

double sigmoid_of(double v) { return 1.0 / (1.0 + std::exp(-v)); }

void set(const Tensor& t, const std::vector<float>& values) {
  REQUIRE(static_cast<int64_t>(values.size()) == t.numel());
  backend_of(t).copy_from_host(t, values.data());
}

// PyTorch's name -> tapegrad's: weight_ih_l1_reverse -> layers.1.backward.weight_ih.
std::string tapegrad_name(const std::string& torch_name) {
  const size_t layer_at = torch_name.find("_l") + 2;
  const bool reverse = torch_name.ends_with("_reverse");
  return "layers." + torch_name.substr(layer_at, 1) + (reverse ? ".backward." : ".forward.") +
         torch_name.substr(0, layer_at - 2);
}

Tensor flatten_output(const GRUOutput& out) {
  return concat({out.output.reshape({-1}), out.h.reshape({-1})}, 0);
}

void check_every_parameter_has_gradient(const Module& module) {
  for (const auto& [name, p] : module.named_parameters()) {
    INFO("parameter ", name);
    REQUIRE(p.grad().defined());
    CHECK(sum(abs(p.grad())).item() > 0.0f);
  }
}

}  // namespace

// I = 2, H = 1, batch 1; every weight chosen, the gates worked out in double:
//   gi = W_ih x + b_ih,  gh = W_hh h + b_hh   (rows r, z, n)
//   r = s(gi_r + gh_r), z = s(gi_z + gh_z), n = tanh(gi_n + r (W_hn h + b_hn)), h' = (1-z) n + z h
TEST_CASE("GRUCell follows PyTorch's equations: gate order r, z, n, b_hn inside r * (...)") {
  Generator gen(1);
  GRUCell cell(2, 1, true, gen);
  const std::vector<float> w_ih{0.5f, -0.3f, 0.2f, 0.8f, -0.6f, 0.4f};  // rows r, z, n
  const std::vector<float> w_hh{0.7f, -0.2f, 0.9f};
  const std::vector<float> b_ih{0.1f, -0.1f, 0.05f}, b_hh{0.2f, 0.3f, -0.4f};
  set(cell.weight_ih, w_ih);
  set(cell.weight_hh, w_hh);
  set(cell.bias_ih, b_ih);
  set(cell.bias_hh, b_hh);
  const double x0 = 1.5, x1 = -0.5, h = 0.6;
  const double r = sigmoid_of(w_ih[0] * x0 + w_ih[1] * x1 + b_ih[0] + w_hh[0] * h + b_hh[0]);
  const double z = sigmoid_of(w_ih[2] * x0 + w_ih[3] * x1 + b_ih[1] + w_hh[1] * h + b_hh[1]);
  const double n = std::tanh(w_ih[4] * x0 + w_ih[5] * x1 + b_ih[2] + r * (w_hh[2] * h + b_hh[2]));
  const double want = (1 - z) * n + z * h;
  const Tensor got = cell(from_vector({1.5f, -0.5f}, {1, 2}), from_vector({0.6f}, {1, 1}));
  CHECK(got.item() == doctest::Approx(want).epsilon(1e-6));
  // No state given means h = 0: then h' = (1 - z0) n0 with the h terms reduced to the biases.
  const double r0 = sigmoid_of(w_ih[0] * x0 + w_ih[1] * x1 + b_ih[0] + b_hh[0]);
  const double z0 = sigmoid_of(w_ih[2] * x0 + w_ih[3] * x1 + b_ih[1] + b_hh[1]);
  const double n0 = std::tanh(w_ih[4] * x0 + w_ih[5] * x1 + b_ih[2] + r0 * b_hh[2]);
  CHECK(cell(from_vector({1.5f, -0.5f}, {1, 2})).item() ==
        doctest::Approx((1 - z0) * n0).epsilon(1e-6));
}

TEST_CASE("GRUCell: PyTorch's parameter names, gradcheck, every parameter gets a gradient") {
  Generator gen(2);
  GRUCell cell(3, 4, true, gen);
  std::vector<std::string> names;
  for (const auto& [name, p] : cell.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"weight_ih", "weight_hh", "bias_ih", "bias_hh"});
  CHECK(cell.weight_ih.shape() == Shape{12, 3});
  CHECK(cell.weight_hh.shape() == Shape{12, 4});
  const float bound = 0.5f;  // 1 / sqrt(4)
  for (const Tensor& p : cell.parameters()) CHECK(max(abs(p)).item() <= bound);

  auto run = [&](const std::vector<Tensor>& in) { return cell(in[0], in[1]); };
  const GradcheckResult r =
      gradcheck_module(cell, run, {random_tensor({2, 3}, 3, true), random_tensor({2, 4}, 4, true)});
  CHECK_MESSAGE(r.ok, r.report);
  (cell(random_tensor({2, 3}, 5), random_tensor({2, 4}, 6)) * random_tensor({2, 4}, 7))
      .sum()
      .backward();
  check_every_parameter_has_gradient(cell);

  GRUCell no_bias(3, 4, false, gen);
  CHECK(no_bias.parameters().size() == 2);
  CHECK_FALSE(no_bias.bias_hh.defined());
}

TEST_CASE("GRU matches PyTorch: 2 layers, bidirectional, packed lengths 4 and 2, given h0") {
  Generator gen(8);
  GRU gru(3, 2, {.num_layers = 2, .bidirectional = true}, gen);
  NamedTensors state;
  for (const auto& p : gru_reference::kParameters)
    state.emplace_back(tapegrad_name(p.name),
                       from_vector(p.values, Shape(p.shape.begin(), p.shape.end())));
  const LoadReport report = gru.load_state_dict(state);  // strict: every name must match
  CHECK(report.missing.empty());

  const Tensor x = from_vector(gru_reference::kInput, {2, 4, 3});
  const Tensor h0 = from_vector(gru_reference::kH0, {4, 2, 2});
  const GRUOutput out = gru(x, h0, from_vector(std::vector<int32_t>{4, 2}, {2}));
  CHECK(out.output.shape() == Shape{2, 4, 4});
  CHECK(out.h.shape() == Shape{4, 2, 2});
  check_close(out.output.to_vector<float>(), gru_reference::kOutput, 1e-5f);
  check_close(out.h.to_vector<float>(), gru_reference::kHn, 1e-5f);
}

TEST_CASE("GRU is GRUCell stepped over time, and time-major layout gives the same") {
  Generator gen(9);
  GRU gru(3, 4, {}, gen);
  const Tensor x = random_tensor({2, 5, 3}, 10), h0 = random_tensor({1, 2, 4}, 11);
  Tensor h = select(h0, 0, 0);
  std::vector<Tensor> steps;
  for (int64_t t = 0; t < 5; ++t) steps.push_back(h = gru.cell(0)(select(x, 1, t), h));
  const GRUOutput out = gru(x, h0);
  check_close(out.output.to_vector<float>(), stack(steps, 1).to_vector<float>());
  check_close(out.h.to_vector<float>(), h.to_vector<float>());

  Generator same(9);
  GRU time_major(3, 4, {.batch_first = false}, same);
  const GRUOutput out_t = time_major(transpose(x, 0, 1), h0);
  check_close(transpose(out_t.output, 0, 1).to_vector<float>(), out.output.to_vector<float>());
}

TEST_CASE("GRU lengths: padding changes nothing, outputs zero, gets no gradient") {
  Generator gen(12);
  GRU gru(2, 3, {.num_layers = 2, .bidirectional = true}, gen);
  const Tensor x = random_tensor({2, 4, 2}, 13, true);
  const Tensor lengths = from_vector(std::vector<int32_t>{4, 2}, {2});
  // gru(x, lengths): one extra int32 tensor is the lengths.
  const GRUOutput padded = gru(x, lengths);
  const GRUOutput explicit_form = gru(x, Tensor(), lengths);
  CHECK(padded.output.to_vector<float>() == explicit_form.output.to_vector<float>());
  // Sequence 1 alone, unpadded: the same outputs at its real steps and the same final states.
  const GRUOutput alone = gru(narrow(narrow(x, 0, 1, 1), 1, 0, 2));
  check_close(narrow(narrow(padded.output, 0, 1, 1), 1, 0, 2).to_vector<float>(),
              alone.output.to_vector<float>());
  check_close(narrow(padded.h, 1, 1, 1).to_vector<float>(), alone.h.to_vector<float>());
  CHECK(sum(abs(narrow(narrow(padded.output, 0, 1, 1), 1, 2, 2))).item() == 0.0f);

  (flatten_output(padded) * random_tensor({2 * 4 * 6 + 4 * 2 * 3}, 14)).sum().backward();
  CHECK(sum(abs(narrow(narrow(x.grad(), 0, 1, 1), 1, 2, 2))).item() == 0.0f);
  CHECK(sum(abs(narrow(narrow(x.grad(), 0, 1, 1), 1, 0, 2))).item() > 0.0f);
  check_every_parameter_has_gradient(gru);
}

TEST_CASE("gradcheck: GRU with two layers, both directions, unequal lengths and h0") {
  Generator gen(15);
  GRU gru(3, 2, {.num_layers = 2, .bidirectional = true}, gen);
  const Tensor lengths = from_vector(std::vector<int32_t>{3, 1}, {2});
  auto run = [&](const std::vector<Tensor>& in) {
    return flatten_output(gru(in[0], in[1], lengths));
  };
  const GradcheckResult r = gradcheck_module(
      gru, run, {random_tensor({2, 3, 3}, 16, true), random_tensor({4, 2, 2}, 17, true)});
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("GRU: parameter names, dropout between layers in training only") {
  Generator gen(18);
  GRU gru(3, 2, {.num_layers = 2, .dropout = 0.5f, .bidirectional = true}, gen);
  std::vector<std::string> names;
  for (const auto& [name, p] : gru.named_parameters()) names.push_back(name);
  REQUIRE(names.size() == 16);
  CHECK(names[0] == "layers.0.forward.weight_ih");
  CHECK(names[7] == "layers.0.backward.bias_hh");
  CHECK(names[8] == "layers.1.forward.weight_ih");
  CHECK(gru.cell(1, 1).weight_ih.shape() == Shape{6, 4});
  const Tensor x = random_tensor({2, 3, 3}, 19);
  CHECK(gru(x).output.to_vector<float>() != gru(x).output.to_vector<float>());
  gru.eval();
  CHECK(gru(x).output.to_vector<float>() == gru(x).output.to_vector<float>());
}

TEST_CASE("GRU and GRUCell errors name the layer, what was expected and what came") {
  Generator gen(20);
  GRU gru(3, 2, {.num_layers = 2}, gen);
  CHECK_THROWS_WITH_AS(gru(zeros({2, 4, 5})),
                       doctest::Contains("GRU: expected a float32 input [batch, time, 3], got "
                                         "float32 [2,4,5]"),
                       Error);
  CHECK_THROWS_WITH_AS(gru(zeros({2, 4, 3}), from_vector(std::vector<int32_t>{4, 0}, {2})),
                       doctest::Contains("GRU: length 0 at sequence 1 is out of range [1, 4]"),
                       Error);
  CHECK_THROWS_WITH_AS(gru(zeros({2, 4, 3}), from_vector(std::vector<int32_t>{4, 4, 4}, {3})),
                       doctest::Contains("expected lengths int32 [2], got int32 [3]"), Error);
  CHECK_THROWS_WITH_AS(gru(zeros({2, 4, 3}), zeros({1, 2, 2})),
                       doctest::Contains("GRU: expected h0 float32 [layers*directions, batch, "
                                         "hidden] = [2,2,2], got float32 [1,2,2]"),
                       Error);
  CHECK_THROWS_WITH_AS(gru.cell(2), doctest::Contains("GRU: no layer 2 (it has 2)"), Error);
  CHECK_THROWS_WITH_AS(gru.cell(0, 1), doctest::Contains("no direction 1 (unidirectional"), Error);
  CHECK_THROWS_WITH_AS(GRU(3, 2, {.num_layers = 0}, gen),
                       doctest::Contains("GRU: num_layers must be at least 1, got 0"), Error);
  CHECK_THROWS_WITH_AS(GRU(3, 2, {.dropout = 1.0f}, gen),
                       doctest::Contains("GRU: dropout must be in [0, 1), got 1"), Error);

  GRUCell cell(3, 2, true, gen);
  CHECK_THROWS_WITH_AS(cell(zeros({2, 4})),
                       doctest::Contains("GRUCell: expected a float32 input [batch, 3], got "
                                         "float32 [2,4]"),
                       Error);
  CHECK_THROWS_WITH_AS(cell(zeros({2, 3}), zeros({3, 2})),
                       doctest::Contains("GRUCell: expected h [2,2], got [3,2]"), Error);
  CHECK_THROWS_WITH_AS(GRUCell(0, 2, true, gen),
                       doctest::Contains("GRUCell: input_size and hidden_size must be positive"),
                       Error);
}
