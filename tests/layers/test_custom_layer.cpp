// Write your own layer: a GRU cell (Cho et al., 2014) built from Linear and elementwise ops.
// A layer registers what it owns and writes a forward; the tape derives the backward, and
// gradcheck_module checks it against finite differences, inputs and parameters alike.
#include <doctest/doctest.h>

#include <cmath>

#include "framework/tapegrad.h"
#include "layers/linear.h"
#include "layers/module_gradcheck.h"

using namespace tg;

//   r  = sigmoid(W_r x + b_r + U_r h + c_r)        reset gate
//   z  = sigmoid(W_z x + b_z + U_z h + c_z)        update gate
//   n  = tanh(W_n x + b_n + r * (U_n h + c_n))     candidate state
//   h' = (1 - z) * n + z * h
// The three W (and the three U) are stacked in one Linear, so one gemm computes all gates.
struct GRUCell : Module {
  Linear from_input, from_hidden;  // x -> [r | z | n],  h -> [r | z | n]

  GRUCell(int64_t input_size, int64_t hidden_size, Generator& gen = default_generator())
      : Module("GRUCell"),
        from_input(input_size, 3 * hidden_size, /*bias=*/true, gen),
        from_hidden(hidden_size, 3 * hidden_size, /*bias=*/true, gen) {
    register_module("from_input", from_input);
    register_module("from_hidden", from_hidden);
  }

  Tensor forward(const Tensor& x, const Tensor& h) const {
    const std::vector<Tensor> xs = chunk(from_input(x), 3, -1);
    const std::vector<Tensor> hs = chunk(from_hidden(h), 3, -1);
    const Tensor r = sigmoid(xs[0] + hs[0]);
    const Tensor z = sigmoid(xs[1] + hs[1]);
    const Tensor n = tanh(xs[2] + r * hs[2]);
    return (1.0f - z) * n + z * h;
  }
  Tensor operator()(const Tensor& x, const Tensor& h) const { return forward(x, h); }
};

TEST_CASE("GRUCell passes gradcheck for x, h and every parameter, unrolled over 3 steps") {
  Generator gen(1);
  GRUCell cell(3, 4, gen);
  const Tensor xs = randn({3, 2, 3}, gen).set_requires_grad();  // [time, batch, input]
  const Tensor h0 = randn({2, 4}, gen).set_requires_grad();
  auto run = [&](const std::vector<Tensor>& in) {
    Tensor h = in[1];
    for (int64_t t = 0; t < 3; ++t) h = cell(select(in[0], 0, t), h);
    return h;
  };
  const GradcheckResult r = gradcheck_module(cell, run, {xs, h0});
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("GRUCell registers its parameters, each receives a gradient") {
  GRUCell cell(3, 4);
  std::vector<std::string> names;
  for (const auto& [name, parameter] : cell.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"from_input.weight", "from_input.bias",
                                          "from_hidden.weight", "from_hidden.bias"});
  CHECK(cell.parameter_count() == 3 * (3 * 4 + 4 + 4 * 4 + 4));

  cell(ones({2, 3}), ones({2, 4})).sum().backward();
  for (const Tensor& parameter : cell.parameters()) CHECK(parameter.grad().defined());
  // Errors name the sub-layer where they happen.
  CHECK_THROWS_WITH_AS(cell(ones({2, 5}), ones({2, 4})),
                       doctest::Contains("Linear 'from_input': expected input [..., 3], got [2,5]"),
                       Error);
}

TEST_CASE("GRUCell matches the formula for one unit") {
  GRUCell cell(1, 1);
  auto set = [](const Tensor& t, std::vector<float> v) {
    backend_of(t).copy_from_host(t, v.data());
  };
  set(cell.from_input.weight, {0.5f, -1.0f, 2.0f});  // W_r, W_z, W_n
  set(cell.from_input.bias, {0.1f, 0.2f, 0.3f});
  set(cell.from_hidden.weight, {1.5f, 0.25f, -0.5f});  // U_r, U_z, U_n
  set(cell.from_hidden.bias, {0.0f, -0.1f, 0.4f});
  const float x = 0.8f, h = -0.6f;
  auto sigmoid_of = [](float v) { return 1.0f / (1.0f + std::exp(-v)); };
  const float r = sigmoid_of(0.5f * x + 0.1f + 1.5f * h);
  const float z = sigmoid_of(-1.0f * x + 0.2f + 0.25f * h - 0.1f);
  const float n = std::tanh(2.0f * x + 0.3f + r * (-0.5f * h + 0.4f));
  const float want = (1 - z) * n + z * h;
  CHECK(cell(full({1, 1}, x), full({1, 1}, h)).item() == doctest::Approx(want));
}
