// LSTMCell and LSTM: the cell against the gate equations evaluated by hand in double, gradcheck
// of both (with unequal lengths, two layers, both directions), the variable-length contract
// (padding changes nothing, gets no gradient, outputs zero), layouts, dropout, parameter names
// and gradients, and every error message.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "framework/tapegrad.h"
#include "layers/lstm.h"
#include "tests/framework/helpers.h"

using namespace tg;
using tg::testing::all_finite;
using tg::testing::check_close;
using tg::testing::random_tensor;

namespace {

double sigmoid_of(double v) { return 1.0 / (1.0 + std::exp(-v)); }

// One LSTM step in double from flat row-major data, W [4H, I+H] split by hand into its gate
// rows (i, f, g, o) and its x / h columns. Writes h', c' [B, H].
void reference_step(const std::vector<float>& x, const std::vector<float>& h,
                    const std::vector<float>& c, const std::vector<float>& weight,
                    const std::vector<float>& bias, int64_t batch, int64_t input, int64_t hidden,
                    std::vector<float>& h_out, std::vector<float>& c_out) {
  const int64_t columns = input + hidden;
  h_out.assign(static_cast<size_t>(batch * hidden), 0.0f);
  c_out.assign(static_cast<size_t>(batch * hidden), 0.0f);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t j = 0; j < hidden; ++j) {
      double pre[4];  // gate pre-activations i, f, g, o for unit j
      for (int64_t gate = 0; gate < 4; ++gate) {
        const int64_t row = gate * hidden + j;
        double total = bias.empty() ? 0.0 : bias[static_cast<size_t>(row)];
        for (int64_t k = 0; k < input; ++k)
          total += double(weight[static_cast<size_t>(row * columns + k)]) *
                   x[static_cast<size_t>(b * input + k)];
        for (int64_t k = 0; k < hidden; ++k)
          total += double(weight[static_cast<size_t>(row * columns + input + k)]) *
                   h[static_cast<size_t>(b * hidden + k)];
        pre[gate] = total;
      }
      const size_t at = static_cast<size_t>(b * hidden + j);
      const double cell = sigmoid_of(pre[1]) * c[at] + sigmoid_of(pre[0]) * std::tanh(pre[2]);
      c_out[at] = static_cast<float>(cell);
      h_out[at] = static_cast<float>(sigmoid_of(pre[3]) * std::tanh(cell));
    }
  }
}

// output, h and c of an LSTM flattened into one vector (what gradcheck weights and sums).
Tensor flatten_output(const LSTMOutput& out) {
  return concat({out.output.reshape({-1}), out.h.reshape({-1}), out.c.reshape({-1})}, 0);
}

// x[b, :length] (batch first) as a batch of one.
Tensor one_sequence(const Tensor& x, int64_t b, int64_t length) {
  return narrow(narrow(x, 0, b, 1), 1, 0, length);
}

struct Encoder : Module {
  LSTM lstm;
  Encoder() : Module("Encoder"), lstm(3, 2) { register_module("rnn", lstm); }
};

}  // namespace

// ---- LSTMCell ----

TEST_CASE("LSTMCell step matches the gate equations computed by hand from the same weights") {
  const int64_t batch = 2, input = 3, hidden = 2;
  Generator gen(7);
  LSTMCell cell(input, hidden, true, gen);
  const Tensor x = random_tensor({batch, input}, 1);
  const Tensor h = random_tensor({batch, hidden}, 2);
  const Tensor c = random_tensor({batch, hidden}, 3);
  const LSTMState next = cell(x, {h, c});
  REQUIRE(next.h.shape() == Shape{batch, hidden});
  REQUIRE(next.c.shape() == Shape{batch, hidden});

  std::vector<float> want_h, want_c;
  reference_step(x.to_vector<float>(), h.to_vector<float>(), c.to_vector<float>(),
                 cell.weight.to_vector<float>(), cell.bias.to_vector<float>(), batch, input, hidden,
                 want_h, want_c);
  check_close(next.h.to_vector<float>(), want_h);
  check_close(next.c.to_vector<float>(), want_c);
}

TEST_CASE("LSTMCell: shapes, PyTorch init range, names, zero default state, no-bias variant") {
  Generator gen(3);
  LSTMCell cell(3, 4, true, gen);
  CHECK(cell.weight.shape() == Shape{16, 7});
  CHECK(cell.bias.shape() == Shape{16});
  const NamedTensors params = cell.named_parameters();
  REQUIRE(params.size() == 2);
  CHECK(params[0].first == "weight");
  CHECK(params[1].first == "bias");
  for (const Tensor& p : cell.parameters()) {
    const std::vector<float> values = p.to_vector<float>();
    float low = values[0], high = values[0];
    for (float v : values) low = std::min(low, v), high = std::max(high, v);
    CHECK(low >= -0.5f);  // 1/sqrt(4)
    CHECK(high <= 0.5f);
    CHECK(high - low > 0.3f);  // spread over the range, not a constant
  }

  const Tensor x = random_tensor({2, 3}, 4);
  const LSTMState from_default = cell(x);
  const LSTMState from_zeros = cell(x, cell.zero_state(2));
  check_close(from_default.h.to_vector<float>(), from_zeros.h.to_vector<float>(), 0.0f);
  check_close(from_default.c.to_vector<float>(), from_zeros.c.to_vector<float>(), 0.0f);

  Generator gen2(5);
  LSTMCell no_bias(2, 2, false, gen2);
  CHECK(no_bias.named_parameters().size() == 1);
  CHECK_FALSE(no_bias.bias.defined());
  const Tensor x2 = random_tensor({1, 2}, 6), h2 = random_tensor({1, 2}, 7),
               c2 = random_tensor({1, 2}, 8);
  std::vector<float> want_h, want_c;
  reference_step(x2.to_vector<float>(), h2.to_vector<float>(), c2.to_vector<float>(),
                 no_bias.weight.to_vector<float>(), {}, 1, 2, 2, want_h, want_c);
  const LSTMState next = no_bias(x2, {h2, c2});
  check_close(next.h.to_vector<float>(), want_h);
  check_close(next.c.to_vector<float>(), want_c);
}

TEST_CASE("gradcheck: lstm_cell with respect to x, h, c, weight and bias") {
  Generator gen(11);
  LSTMCell cell(3, 2, true, gen);
  const std::vector<Tensor> inputs{random_tensor({2, 3}, 21, true), random_tensor({2, 2}, 22, true),
                                   random_tensor({2, 2}, 23, true),
                                   cell.weight.detach().clone().set_requires_grad(),
                                   cell.bias.detach().clone().set_requires_grad()};
  auto f = [](const std::vector<Tensor>& in) {
    const LSTMState next = lstm_cell(in[0], {in[1], in[2]}, in[3], in[4]);
    return concat({next.h, next.c}, 1);
  };
  const GradcheckResult r = gradcheck(f, inputs);
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("LSTMCell errors name the cell and the shapes") {
  LSTMCell cell(3, 2);
  CHECK_THROWS_WITH_AS(cell(zeros({2, 4})),
                       doctest::Contains("LSTMCell: expected input [batch, 3], got [2,4]"), Error);
  CHECK_THROWS_WITH_AS(cell(zeros({3})), doctest::Contains("expected input [batch, 3], got [3]"),
                       Error);
  CHECK_THROWS_WITH_AS(cell(zeros({2, 3}), {zeros({2, 3}), zeros({2, 2})}),
                       doctest::Contains("LSTMCell: expected h and c [2,2], got [2,3] and [2,2]"),
                       Error);
  CHECK_THROWS_WITH_AS(cell(zeros({2, 3}), {zeros({2, 2}), Tensor()}),
                       doctest::Contains("both given or both left out"), Error);
  CHECK_THROWS_WITH_AS(LSTMCell(0, 2),
                       doctest::Contains("LSTMCell: input_size and hidden_size "
                                         "must be positive, got 0 and 2"),
                       Error);
  CHECK_THROWS_WITH_AS(lstm_cell(zeros({2, 3}), {zeros({2, 2}), zeros({2, 2})}, zeros({8, 4}), {}),
                       doctest::Contains("lstm_cell: expected weight [8,5]"), Error);
  CHECK_THROWS_WITH_AS(
      lstm_cell(zeros({2, 3}), {zeros({2, 2}), zeros({2, 2})}, zeros({8, 5}), zeros({6})),
      doctest::Contains("lstm_cell: expected bias [8], got [6]"), Error);
  CHECK_THROWS_WITH_AS(lstm_cell(zeros({2, 3}), {zeros({2, 2}), zeros({1, 2})}, zeros({8, 5}), {}),
                       doctest::Contains("lstm_cell: expected h and c [2,2], got [2,2] and [1,2]"),
                       Error);
  CHECK_THROWS_WITH_AS(cell(from_vector(std::vector<int32_t>{1, 2, 3}, {1, 3})),
                       doctest::Contains("LSTMCell: expected a float32 input, got int32"), Error);
}

// ---- LSTM: structure ----

TEST_CASE("LSTM parameter names and shapes: layers.<l>.<direction>.weight/bias") {
  Generator gen(1);
  LSTM lstm(3, 2, {.num_layers = 2, .bidirectional = true}, gen);
  const NamedTensors params = lstm.named_parameters();
  const std::vector<std::pair<std::string, Shape>> want{
      {"layers.0.forward.weight", {8, 5}},  {"layers.0.forward.bias", {8}},
      {"layers.0.backward.weight", {8, 5}}, {"layers.0.backward.bias", {8}},
      {"layers.1.forward.weight", {8, 6}},  {"layers.1.forward.bias", {8}},
      {"layers.1.backward.weight", {8, 6}}, {"layers.1.backward.bias", {8}}};
  REQUIRE(params.size() == want.size());
  for (size_t k = 0; k < want.size(); ++k) {
    CHECK(params[k].first == want[k].first);
    CHECK(params[k].second.shape() == want[k].second);
  }
  CHECK(lstm.cell(1, 1).weight.impl() == params[6].second.impl());

  LSTM plain(3, 2, {.bias = false});
  const NamedTensors plain_params = plain.named_parameters();
  REQUIRE(plain_params.size() == 1);
  CHECK(plain_params[0].first == "layers.0.forward.weight");
}

// ---- LSTM: values ----

TEST_CASE("LSTM over full sequences equals the cells run step by step, layer by layer") {
  // 2 layers x 2 directions: states are indexed l*D + d, the backward cell reads t = T-1..0,
  // and layer 1 reads [h_forward(t), h_backward(t)].
  const int64_t batch = 2, steps = 3, input = 2, hidden = 3;
  Generator gen(5);
  LSTM lstm(input, hidden, {.num_layers = 2, .bidirectional = true}, gen);
  const Tensor x = random_tensor({batch, steps, input}, 9);
  const Tensor h0 = random_tensor({4, batch, hidden}, 10),
               c0 = random_tensor({4, batch, hidden}, 12);
  const LSTMOutput out = lstm(x, {h0, c0});
  REQUIRE(out.output.shape() == Shape{batch, steps, 2 * hidden});
  REQUIRE(out.h.shape() == Shape{4, batch, hidden});

  Tensor layer_input = x;
  for (int64_t l = 0; l < 2; ++l) {
    std::vector<Tensor> outputs[2];
    for (int64_t d = 0; d < 2; ++d) {
      INFO("layer ", l, " direction ", d);
      const int64_t index = l * 2 + d;
      LSTMState state{select(h0, 0, index), select(c0, 0, index)};
      outputs[d].resize(steps);
      for (int64_t k = 0; k < steps; ++k) {
        const int64_t t = d == 0 ? k : steps - 1 - k;
        state = lstm.cell(l, d)(select(layer_input, 1, t), state);
        outputs[d][static_cast<size_t>(t)] = state.h;
      }
      check_close(select(out.h, 0, index).to_vector<float>(), state.h.to_vector<float>());
      check_close(select(out.c, 0, index).to_vector<float>(), state.c.to_vector<float>());
    }
    layer_input = concat({stack(outputs[0], 1), stack(outputs[1], 1)}, 2);
  }
  check_close(out.output.to_vector<float>(), layer_input.to_vector<float>());
}

TEST_CASE("LSTM with lengths: each sequence in a padded batch gives what it gives alone") {
  const std::vector<int32_t> length_values{4, 2, 3};
  const int64_t batch = 3, steps = 4, input = 2, hidden = 2;
  Generator gen(17);
  LSTM lstm(input, hidden, {.num_layers = 2, .bidirectional = true}, gen);
  const Tensor x = random_tensor({batch, steps, input}, 30);
  const Tensor lengths = from_vector(length_values, {batch});
  const Tensor h0 = random_tensor({4, batch, hidden}, 31),
               c0 = random_tensor({4, batch, hidden}, 32);
  const LSTMOutput padded = lstm(x, {h0, c0}, lengths);
  REQUIRE(padded.output.shape() == Shape{batch, steps, 2 * hidden});

  for (int64_t b = 0; b < batch; ++b) {
    INFO("sequence ", b);
    const int64_t length = length_values[static_cast<size_t>(b)];
    const LSTMOutput alone =
        lstm(one_sequence(x, b, length), {narrow(h0, 1, b, 1), narrow(c0, 1, b, 1)});
    check_close(narrow(narrow(padded.output, 0, b, 1), 1, 0, length).to_vector<float>(),
                alone.output.to_vector<float>());
    check_close(narrow(padded.h, 1, b, 1).to_vector<float>(), alone.h.to_vector<float>());
    check_close(narrow(padded.c, 1, b, 1).to_vector<float>(), alone.c.to_vector<float>());
    if (length < steps) {  // padded outputs are exactly zero
      const std::vector<float> tail =
          narrow(narrow(padded.output, 0, b, 1), 1, length, steps - length).to_vector<float>();
      check_close(tail, std::vector<float>(tail.size(), 0.0f), 0.0f);
    }
  }

  // Lengths that are all T change nothing.
  const LSTMOutput full = lstm(x, {h0, c0}, from_vector(std::vector<int32_t>{4, 4, 4}, {3}));
  check_close(full.output.to_vector<float>(), lstm(x, {h0, c0}).output.to_vector<float>(), 0.0f);
}

TEST_CASE("LSTM: padded inputs receive exactly zero gradient, real ones do not") {
  const std::vector<int32_t> length_values{1, 3};
  Generator gen(23);
  LSTM lstm(2, 2, {.num_layers = 2, .bidirectional = true}, gen);
  const Tensor x = random_tensor({2, 3, 2}, 40, true);
  const Tensor out = flatten_output(lstm(x, from_vector(length_values, {2})));
  (out * random_tensor(out.shape(), 41)).sum().backward();
  const std::vector<float> grad = x.grad().to_vector<float>();  // [2, 3, 2]
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t t = 0; t < 3; ++t)
      for (int64_t k = 0; k < 2; ++k) {
        INFO("b ", b, " t ", t, " k ", k);
        const float g = grad[static_cast<size_t>((b * 3 + t) * 2 + k)];
        if (t >= length_values[static_cast<size_t>(b)])
          CHECK(g == 0.0f);
        else
          CHECK(g != 0.0f);
      }
}

TEST_CASE("gradcheck: LSTM, 2 layers, bidirectional, unequal lengths, wrt x, h0, c0") {
  Generator gen(29);
  LSTM lstm(3, 2, {.num_layers = 2, .bidirectional = true}, gen);
  const Tensor lengths = from_vector(std::vector<int32_t>{3, 1, 2}, {3});
  auto f = [&](const std::vector<Tensor>& in) {
    return flatten_output(lstm(in[0], {in[1], in[2]}, lengths));
  };
  const GradcheckResult r =
      gradcheck(f, {random_tensor({3, 3, 3}, 50, true), random_tensor({4, 3, 2}, 51, true),
                    random_tensor({4, 3, 2}, 52, true)});
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("LSTM: every parameter gets a gradient, and it matches finite differences") {
  Generator gen(31);
  LSTM lstm(2, 2, {.num_layers = 2, .bidirectional = true}, gen);
  const Tensor x = random_tensor({3, 3, 2}, 60);
  const Tensor lengths = from_vector(std::vector<int32_t>{2, 3, 1}, {3});
  const Tensor weights = uniform({3 * 3 * 4 + 2 * 4 * 3 * 2}, 0.5f, 1.5f, gen);
  auto loss = [&] { return (flatten_output(lstm(x, lengths)) * weights).sum(); };

  loss().backward();
  const double eps = 1e-3;
  for (const auto& [name, param] : lstm.named_parameters()) {
    INFO("parameter ", name);
    const Tensor grad = param.grad();
    REQUIRE(grad.defined());
    const std::vector<float> analytic = grad.to_vector<float>();
    double largest = 0;
    float* values = param.data<float>();
    NoGradGuard no_recording;
    for (size_t i = 0; i < analytic.size(); ++i) {
      const float original = values[i];
      values[i] = original + static_cast<float>(eps);
      const double plus = loss().item();
      values[i] = original - static_cast<float>(eps);
      const double minus = loss().item();
      values[i] = original;
      const double numeric = (plus - minus) / (2 * eps);
      INFO("element ", i, ": analytic ", analytic[i], ", numeric ", numeric);
      CHECK(std::abs(analytic[i] - numeric) <= 2e-3 + 2e-2 * std::abs(numeric));
      largest = std::max(largest, std::abs(double(analytic[i])));
    }
    CHECK(largest > 1e-4);
  }
}

TEST_CASE("LSTM batch_first = false gives the transposed result") {
  Generator gen_a(41), gen_b(41);
  LSTM batch_major(2, 3, {.num_layers = 2, .bidirectional = true}, gen_a);
  LSTM time_major(2, 3, {.num_layers = 2, .batch_first = false, .bidirectional = true}, gen_b);
  const Tensor x = random_tensor({2, 4, 2}, 70);
  const Tensor lengths = from_vector(std::vector<int32_t>{2, 4}, {2});
  const LSTMOutput a = batch_major(x, lengths);
  const LSTMOutput b = time_major(transpose(x, 0, 1), lengths);
  REQUIRE(b.output.shape() == Shape{4, 2, 6});
  check_close(transpose(b.output, 0, 1).to_vector<float>(), a.output.to_vector<float>(), 0.0f);
  check_close(b.h.to_vector<float>(), a.h.to_vector<float>(), 0.0f);
  check_close(b.c.to_vector<float>(), a.c.to_vector<float>(), 0.0f);
}

TEST_CASE("LSTM dropout acts between layers in training only") {
  const Tensor x = random_tensor({2, 3, 2}, 80);
  Generator gen_a(43), gen_b(43);
  LSTM with_dropout(2, 3, {.num_layers = 2, .dropout = 0.5f}, gen_a);
  LSTM without(2, 3, {.num_layers = 2}, gen_b);
  const std::vector<float> reference = without(x).output.to_vector<float>();
  const std::vector<float> trained = with_dropout(x).output.to_vector<float>();
  float difference = 0;
  for (size_t i = 0; i < reference.size(); ++i)
    difference = std::max(difference, std::abs(reference[i] - trained[i]));
  CHECK(difference > 1e-3f);
  with_dropout.eval();
  check_close(with_dropout(x).output.to_vector<float>(), reference, 0.0f);

  // One layer: no layer follows, so dropout never applies.
  Generator gen_c(44), gen_d(44);
  LSTM single(2, 3, {.dropout = 0.5f}, gen_c);
  LSTM single_plain(2, 3, {}, gen_d);
  check_close(single(x).output.to_vector<float>(), single_plain(x).output.to_vector<float>(), 0.0f);
}

// ---- LSTM: errors ----

TEST_CASE("LSTM errors name the layer path, what was expected and what came") {
  Encoder encoder;
  const LSTM& lstm = encoder.lstm;
  CHECK_THROWS_WITH_AS(
      lstm(zeros({2, 4, 5})),
      doctest::Contains("LSTM 'rnn': expected input [batch, time, 3], got [2,4,5]"), Error);
  CHECK_THROWS_WITH_AS(lstm(zeros({2, 3})), doctest::Contains("got [2,3]"), Error);
  CHECK_THROWS_WITH_AS(lstm(zeros({2, 4, 3}), from_vector(std::vector<int32_t>{4, 0}, {2})),
                       doctest::Contains("LSTM: length 0 at sequence 1 is out of range [1, 4]"),
                       Error);
  CHECK_THROWS_WITH_AS(lstm(zeros({2, 4, 3}), from_vector(std::vector<int32_t>{5, 1}, {2})),
                       doctest::Contains("LSTM: length 5 at sequence 0 is out of range [1, 4]"),
                       Error);
  CHECK_THROWS_WITH_AS(lstm(zeros({2, 4, 3}), from_vector(std::vector<int32_t>{4, 4, 4}, {3})),
                       doctest::Contains("expected lengths int32 [2], got int32 [3]"), Error);
  CHECK_THROWS_WITH_AS(lstm(zeros({2, 4, 3}), zeros({2})),
                       doctest::Contains("expected lengths int32 [2], got float32 [2]"), Error);
  CHECK_THROWS_WITH_AS(lstm(zeros({2, 4, 3}), {zeros({1, 3, 2}), zeros({1, 3, 2})}),
                       doctest::Contains("expected initial h0 and c0 [layers*directions, batch, "
                                         "hidden] = [1,2,2], got [1,3,2] and [1,3,2]"),
                       Error);
  CHECK_THROWS_WITH_AS(lstm(zeros({2, 4, 3}), {zeros({1, 2, 2}), Tensor()}),
                       doctest::Contains("h0 and c0 must be both given or both left out"), Error);
  CHECK_THROWS_WITH_AS(lstm.cell(0, 1), doctest::Contains("no direction 1"), Error);
  CHECK_THROWS_WITH_AS(lstm.cell(1), doctest::Contains("LSTM 'rnn': no layer 1 (it has 1)"), Error);
  CHECK_THROWS_WITH_AS(lstm(zeros({2, 0, 3})),
                       doctest::Contains("expected at least one sequence of at least one step, "
                                         "got [2,0,3]"),
                       Error);

  LSTM time_major(3, 2, {.batch_first = false});
  CHECK_THROWS_WITH_AS(time_major(zeros({4, 2, 2})),
                       doctest::Contains("LSTM: expected input [time, batch, 3], got [4,2,2]"),
                       Error);
  CHECK_THROWS_WITH_AS(LSTM(3, 2, {.num_layers = 0}),
                       doctest::Contains("LSTM: num_layers must be at least 1, got 0"), Error);
  CHECK_THROWS_WITH_AS(LSTM(3, 2, {.dropout = 1.0f}),
                       doctest::Contains("LSTM: dropout must be in [0, 1), got 1"), Error);
}

TEST_CASE("the fused LSTM cell matches the op-by-op reference, values and gradients") {
  Generator gen(71);
  const int64_t batch = 3, input = 4, hidden = 5;
  for (int pass = 0; pass < 2; ++pass) {  // pass 1: large enough for the threaded path
    const int64_t b = pass == 0 ? batch : 64, h = pass == 0 ? hidden : 128;
    const Tensor x = randn({b, input}, gen).set_requires_grad();
    const Tensor h0 = randn({b, h}, gen).set_requires_grad();
    const Tensor c0 = randn({b, h}, gen).set_requires_grad();
    const Tensor w = (randn({4 * h, input + h}, gen) * 0.3f).detach().set_requires_grad();
    const Tensor bias = randn({4 * h}, gen).set_requires_grad();
    const Tensor weight_h = randn({b, h}, gen), weight_c = randn({b, h}, gen);
    auto run = [&](auto cell_fn) {
      for (const Tensor& t : {x, h0, c0, w, bias}) t.zero_grad();
      const LSTMState next = cell_fn(x, LSTMState{h0, c0}, w, bias);
      sum(next.h * weight_h + next.c * weight_c).backward();
      std::vector<std::vector<float>> values{next.h.to_vector<float>(), next.c.to_vector<float>()};
      for (const Tensor& t : {x, h0, c0, w, bias}) values.push_back(t.grad().to_vector<float>());
      return values;
    };
    const auto fused = run(lstm_cell);
    const auto reference = run(lstm_cell_reference);
    for (size_t k = 0; k < fused.size(); ++k) {
      double worst = 0;  // largest |fused - reference| / (1 + |reference|)
      for (size_t i = 0; i < fused[k].size(); ++i)
        worst = std::max(
            worst, std::fabs(fused[k][i] - reference[k][i]) / (1.0 + std::fabs(reference[k][i])));
      INFO("output/gradient ", k, " of h, c, dx, dh0, dc0, dW, db");
      CHECK(worst < 1e-5);
    }
  }
  // Only h used downstream: the c output gets no gradient and the fused backward copes.
  const Tensor x = randn({2, 3}, gen).set_requires_grad();
  const Tensor w = randn({8, 5}, gen).set_requires_grad();
  const GradcheckResult r = gradcheck(
      [](const std::vector<Tensor>& in) {
        return lstm_cell(in[0], {in[1], in[2]}, in[3], Tensor()).h;
      },
      {x, randn({2, 2}, gen).set_requires_grad(), randn({2, 2}, gen).set_requires_grad(), w});
  CHECK_MESSAGE(r.ok, r.report);
}
