// lstm_sequence, one LSTM direction over a whole sequence as one op: equal to the same steps
// composed from linear, lstm_pointwise and where (outputs, last state and the gradients of all
// four inputs, to 1e-5), in both directions, with and without padded steps, with a loss on
// every output or only some; gradcheck through all four inputs; every error message.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "framework/tapegrad.h"
#include "tests/framework/helpers.h"

using namespace tg;
using tg::testing::check_close;
using tg::testing::check_gradcheck;
using tg::testing::random_tensor;

namespace {

constexpr int64_t kSteps = 4, kBatch = 3, kHidden = 2;

// One Int32 [B, 1] mask per step, 1 where t < lengths[b].
std::vector<Tensor> masks_for(const std::vector<int32_t>& lengths) {
  std::vector<Tensor> masks;
  for (int64_t t = 0; t < kSteps; ++t) {
    std::vector<int32_t> real;
    for (int32_t length : lengths) real.push_back(t < length ? 1 : 0);
    masks.push_back(from_vector(real, {static_cast<int64_t>(lengths.size()), 1}));
  }
  return masks;
}

// The reference: each step composed from ops, as layers/lstm.cpp ran them before the fused op.
LSTMSequence composed(const Tensor& input_gates, const Tensor& w_hidden, const Tensor& h0,
                      const Tensor& c0, const std::vector<Tensor>& masks, bool reverse) {
  const std::vector<Tensor> gates_at = unbind(input_gates, 0);
  const Tensor zero = zeros({});
  Tensor h = h0, c = c0;
  std::vector<Tensor> outputs(static_cast<size_t>(kSteps));
  for (int64_t k = 0; k < kSteps; ++k) {
    const auto t = static_cast<size_t>(reverse ? kSteps - 1 - k : k);
    const LSTMPointwise next = lstm_pointwise(linear(h, w_hidden, gates_at[t]), c);
    if (masks.empty()) {
      h = next.h, c = next.c, outputs[t] = next.h;
    } else {
      outputs[t] = where(masks[t], next.h, zero);
      h = where(masks[t], next.h, h);
      c = where(masks[t], next.c, c);
    }
  }
  return {stack(outputs, 0), h, c};
}

struct Inputs {
  Tensor input_gates, w_hidden, h0, c0;
  std::vector<Tensor> all() const { return {input_gates, w_hidden, h0, c0}; }
};

Inputs make_inputs(uint64_t seed) {
  return {random_tensor({kSteps, kBatch, 4 * kHidden}, seed, true),
          random_tensor({4 * kHidden, kHidden}, seed + 1, true),
          random_tensor({kBatch, kHidden}, seed + 2, true),
          random_tensor({kBatch, kHidden}, seed + 3, true)};
}

struct Outcome {
  std::vector<std::vector<float>> values;  // outputs, h, c, then the four inputs' gradients
};

// Runs `run` on fresh seeded inputs and back-propagates a random weighting of the outputs
// selected by `loss_on` (outputs, h, c).
template <class Run>
Outcome run_and_backward(const Run& run, const std::vector<bool>& loss_on) {
  const Inputs in = make_inputs(11);
  const LSTMSequence r = run(in);
  const std::vector<Tensor> results{r.outputs, r.h, r.c};
  Tensor loss = zeros({});
  for (size_t i = 0; i < results.size(); ++i)
    if (loss_on[i]) loss = loss + (results[i] * random_tensor(results[i].shape(), 20 + i)).sum();
  loss.backward();
  Outcome outcome;
  for (const Tensor& t : results) outcome.values.push_back(t.to_vector<float>());
  for (const Tensor& t : in.all())
    outcome.values.push_back(t.grad().defined() ? t.grad().to_vector<float>()
                                                : std::vector<float>(t.numel(), 0.0f));
  return outcome;
}

void check_equals_composed(const std::vector<Tensor>& masks, bool reverse,
                           const std::vector<bool>& loss_on) {
  const Outcome fused = run_and_backward(
      [&](const Inputs& in) {
        return lstm_sequence(in.input_gates, in.w_hidden, in.h0, in.c0, masks, reverse);
      },
      loss_on);
  const Outcome reference = run_and_backward(
      [&](const Inputs& in) {
        return composed(in.input_gates, in.w_hidden, in.h0, in.c0, masks, reverse);
      },
      loss_on);
  const char* names[] = {"outputs", "h", "c", "d input_gates", "d w_hidden", "d h0", "d c0"};
  for (size_t i = 0; i < fused.values.size(); ++i) {
    INFO(names[i]);
    check_close(fused.values[i], reference.values[i], 1e-5f);
  }
}

}  // namespace

TEST_CASE("lstm_sequence equals the steps composed from linear, lstm_pointwise and where") {
  const std::vector<Tensor> unequal = masks_for({4, 1, 3});
  for (bool reverse : {false, true}) {
    INFO("reverse ", reverse);
    SUBCASE("every step real") { check_equals_composed({}, reverse, {true, true, true}); }
    SUBCASE("unequal lengths") { check_equals_composed(unequal, reverse, {true, true, true}); }
    SUBCASE("a loss on the outputs only") {
      check_equals_composed(unequal, reverse, {true, false, false});
    }
    SUBCASE("a loss on the last state only") {
      check_equals_composed(unequal, reverse, {false, true, true});
    }
  }
}

TEST_CASE("lstm_sequence: padded steps output 0, keep the state and give their gates no gradient") {
  const Inputs in = make_inputs(31);
  const LSTMSequence r =
      lstm_sequence(in.input_gates, in.w_hidden, in.h0, in.c0, masks_for({2, 4, 1}), false);
  const std::vector<float> outputs = r.outputs.to_vector<float>();
  // sequence 2 (length 1): steps 1..3 output 0; its last state is the state after step 0
  for (int64_t t = 1; t < kSteps; ++t)
    for (int64_t j = 0; j < kHidden; ++j) CHECK(outputs[(t * kBatch + 2) * kHidden + j] == 0.0f);
  const std::vector<float> h = r.h.to_vector<float>();
  for (int64_t j = 0; j < kHidden; ++j) CHECK(h[2 * kHidden + j] == outputs[2 * kHidden + j]);

  (r.outputs.sum() + r.h.sum() + r.c.sum()).backward();
  const std::vector<float> d_gates = in.input_gates.grad().to_vector<float>();
  for (int64_t t = 0; t < kSteps; ++t)
    for (int64_t b = 0; b < kBatch; ++b) {
      const bool real = t < std::vector<int64_t>{2, 4, 1}[static_cast<size_t>(b)];
      for (int64_t j = 0; j < 4 * kHidden; ++j) {
        INFO("step ", t, " sequence ", b, " gate ", j);
        if (real)
          CHECK(d_gates[(t * kBatch + b) * 4 * kHidden + j] != 0.0f);
        else
          CHECK(d_gates[(t * kBatch + b) * 4 * kHidden + j] == 0.0f);
      }
    }
}

TEST_CASE("lstm_sequence under NoGradGuard: the same values, nothing recorded") {
  const Inputs in = make_inputs(41);
  const std::vector<Tensor> masks = masks_for({3, 4, 2});
  for (bool reverse : {false, true}) {
    INFO("reverse ", reverse);
    const LSTMSequence recorded =
        lstm_sequence(in.input_gates, in.w_hidden, in.h0, in.c0, masks, reverse);
    tape().clear();
    NoGradGuard no_grad;
    const LSTMSequence plain =
        lstm_sequence(in.input_gates, in.w_hidden, in.h0, in.c0, masks, reverse);
    CHECK(tape().size() == 0);
    CHECK_FALSE(plain.outputs.requires_grad());
    CHECK(plain.outputs.to_vector<float>() == recorded.outputs.to_vector<float>());
    CHECK(plain.h.to_vector<float>() == recorded.h.to_vector<float>());
    CHECK(plain.c.to_vector<float>() == recorded.c.to_vector<float>());
  }
}

TEST_CASE("gradcheck: lstm_sequence wrt input_gates, w_hidden, h0 and c0") {
  for (bool reverse : {false, true}) {
    INFO("reverse ", reverse);
    const std::vector<Tensor> masks = masks_for({3, 4, 2});
    auto f = [&](const std::vector<Tensor>& in) {
      const LSTMSequence r = lstm_sequence(in[0], in[1], in[2], in[3], masks, reverse);
      return concat({r.outputs.reshape({-1}), r.h.reshape({-1}), r.c.reshape({-1})}, 0);
    };
    check_gradcheck(f, make_inputs(41).all());
  }
}

TEST_CASE("lstm_sequence: errors name what was expected and what came") {
  const Tensor gates = zeros({kSteps, kBatch, 4 * kHidden}), w = zeros({4 * kHidden, kHidden});
  const Tensor state = zeros({kBatch, kHidden});
  CHECK_THROWS_WITH_AS(lstm_sequence(gates, zeros({6, 2}), state, state, {}, false),
                       "lstm_sequence: expected w_hidden [4H, H], got [6,2]", Error);
  CHECK_THROWS_WITH_AS(lstm_sequence(zeros({kSteps, kBatch, 6}), w, state, state, {}, false),
                       "lstm_sequence: expected input_gates [T, B, 8], got [4,3,6]", Error);
  CHECK_THROWS_WITH_AS(lstm_sequence(gates, w, zeros({2, kHidden}), state, {}, false),
                       "lstm_sequence: expected h0 and c0 [3,2], got [2,2] and [3,2]", Error);
  CHECK_THROWS_WITH_AS(lstm_sequence(zeros({0, kBatch, 4 * kHidden}), w, state, state, {}, false),
                       "lstm_sequence: expected at least one step, got [0,3,8]", Error);
  CHECK_THROWS_WITH_AS(lstm_sequence(gates, w, state, state, masks_for({1, 2, 3, 4}), false),
                       "lstm_sequence: expected step masks [3, 1], got [4,1]", Error);
  std::vector<Tensor> too_few = masks_for({1, 2, 3});
  too_few.pop_back();
  CHECK_THROWS_WITH_AS(lstm_sequence(gates, w, state, state, too_few, false),
                       "lstm_sequence: expected no step masks or one per step (4), got 3", Error);
  CHECK_THROWS_WITH_AS(
      lstm_sequence(gates, w, state, state, std::vector<Tensor>(kSteps, zeros({kBatch, 1})), false),
      doctest::Contains("lstm_sequence: a step mask must be int32, got float32"), Error);
  CHECK_THROWS_WITH_AS(lstm_sequence(from_vector(std::vector<int32_t>(96, 0), {4, 3, 8}), w, state,
                                     state, {}, false),
                       doctest::Contains("lstm_sequence: expected a float32 tensor, got int32"),
                       Error);
}
