// PositionalEncoding against the sinusoid formula at chosen positions, as a buffer not a
// parameter, added to the input; LearnedPositionalEmbedding's values and gradients.
#include <doctest/doctest.h>

#include <cmath>

#include "layer_checks.h"
#include "layers/model_checkpoint.h"
#include "layers/module_gradcheck.h"
#include "layers/positional_encoding.h"
#include "optim/training_checkpoint.h"

using namespace tg;
using namespace tg::testing;

namespace {
double sinusoid(int64_t pos, int64_t j, int64_t dim) {
  const double angle = pos / std::pow(10000.0, static_cast<double>(j - j % 2) / dim);
  return j % 2 == 0 ? std::sin(angle) : std::cos(angle);
}
}  // namespace

TEST_CASE("PositionalEncoding's table is sin/cos of pos / 10000^(2i/dim)") {
  PositionalEncoding pe(8, 50);
  REQUIRE(pe.table.shape() == Shape{50, 8});
  const std::vector<float> table = pe.table.to_vector<float>();
  // Position 0: sin 0 = 0 and cos 0 = 1, alternating.
  check_close(std::vector<float>(table.begin(), table.begin() + 8), {0, 1, 0, 1, 0, 1, 0, 1}, 0.0f);
  CHECK(table[3 * 8 + 0] == doctest::Approx(std::sin(3.0)));
  CHECK(table[3 * 8 + 1] == doctest::Approx(std::cos(3.0)));
  CHECK(table[7 * 8 + 5] == doctest::Approx(std::cos(7.0 / std::pow(10000.0, 4.0 / 8))));
  CHECK(table[49 * 8 + 6] == doctest::Approx(std::sin(49.0 / std::pow(10000.0, 6.0 / 8))));
  for (int64_t pos : {0, 1, 13, 49})
    for (int64_t j = 0; j < 8; ++j) {
      INFO("pos ", pos, ", feature ", j);
      CHECK(table[pos * 8 + j] == doctest::Approx(sinusoid(pos, j, 8)).epsilon(1e-6));
    }

  PositionalEncoding odd(5, 10);  // an odd dim ends on a sine
  CHECK(odd.table.to_vector<float>()[9 * 5 + 4] == doctest::Approx(sinusoid(9, 4, 5)));
}

TEST_CASE("PositionalEncoding's table is a computed buffer named pe: not trained, not saved") {
  PositionalEncoding pe(4, 16);
  CHECK(pe.parameter_count() == 0);
  CHECK(pe.named_buffers().empty());
  const NamedTensors computed = pe.named_computed_buffers();
  REQUIRE(computed.size() == 1);
  CHECK(computed[0].first == "pe");
  CHECK(computed[0].second.id() == pe.table.id());
  CHECK_FALSE(pe.table.requires_grad());
  CHECK(pe.state_dict().empty());
  CHECK_FALSE(model_checkpoint(pe).has_tensor("model.pe"));
}

TEST_CASE("a checkpoint that saved the table (before it was computed) still loads, table too") {
  // Checkpoints written before 2026-12-02 hold model.pe; they must load strictly, and what they
  // hold is loaded (checked like any tensor). One without it loads as well.
  PositionalEncoding pe(4, 16);
  Checkpoint old_file = model_checkpoint(pe);
  const Tensor saved_table = full({16, 4}, 0.5f);
  old_file.add_tensor("model.pe", saved_table);
  load_into(old_file, pe);
  CHECK(pe.table.to_vector<float>() == saved_table.to_vector<float>());
  PositionalEncoding fresh(4, 16);
  CHECK(load_into(model_checkpoint(fresh), pe).missing.empty());
  CHECK(pe.load_state_dict({{"pe", saved_table}}).unexpected.empty());
  const TrainingState state{&pe};  // --resume of a training checkpoint
  CHECK(restore(old_file, state, /*strict=*/false).unexpected.empty());
  CHECK(restore(capture(state), state).missing.empty());
  // A table of another shape is a mismatch, named, as for any tensor.
  Checkpoint wrong = model_checkpoint(pe);
  wrong.add_tensor("model.pe", full({8, 4}, 0.5f));
  CHECK_THROWS_WITH_AS(load_into(wrong, pe),
                       doctest::Contains("'pe': the checkpoint has float32 [8,4]"), Error);
}

TEST_CASE("PositionalEncoding adds PE(:T) to every sequence of the batch, gradient is identity") {
  PositionalEncoding pe(6, 20);
  Generator gen(1);
  const Tensor x = randn({2, 5, 6}, gen).set_requires_grad();
  const std::vector<float> xs = x.to_vector<float>(), y = pe(x).to_vector<float>();
  REQUIRE(y.size() == xs.size());
  for (int b = 0; b < 2; ++b)
    for (int t = 0; t < 5; ++t)
      for (int j = 0; j < 6; ++j) {
        const size_t i = (b * 5 + t) * 6 + j;
        CHECK(y[i] == doctest::Approx(xs[i] + sinusoid(t, j, 6)).epsilon(1e-6));
      }
  const GradcheckResult r =
      gradcheck([&](const std::vector<Tensor>& in) { return pe(in[0]); }, {x});
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("PositionalEncoding's dropout acts in training only") {
  Generator gen(2);
  PositionalEncoding pe(8, 32, /*dropout=*/0.5f, gen);
  const Tensor x = zeros({1, 32, 8});
  pe.eval();
  check_close(pe(x), pe.table.to_vector<float>(), 0.0f);
  pe.train();
  CHECK(pe(x).to_vector<float>() != pe.table.to_vector<float>());
}

TEST_CASE("PositionalEncoding names the shape and length it expected") {
  PositionalEncoding pe(8, 50);
  CHECK_THROWS_WITH_AS(
      pe(zeros({1, 51, 8})),
      doctest::Contains("PositionalEncoding: sequence length 51 exceeds max_len 50"), Error);
  CHECK_THROWS_WITH_AS(
      pe(zeros({2, 5, 6})),
      doctest::Contains("PositionalEncoding: expected input [B, T, 8], got [2,5,6]"), Error);
  CHECK_THROWS_WITH_AS(pe(zeros({5, 8})), doctest::Contains("expected input [B, T, 8], got [5,8]"),
                       Error);
}

TEST_CASE("LearnedPositionalEmbedding adds weight(:T), only those rows learn") {
  Generator gen(3);
  LearnedPositionalEmbedding learned(10, 4, gen);
  CHECK(parameter_names(learned) == std::vector<std::string>{"weight"});
  const Tensor x = randn({2, 3, 4}, gen).set_requires_grad();
  const std::vector<float> xs = x.to_vector<float>(), w = learned.weight.to_vector<float>();
  const std::vector<float> y = learned(x).to_vector<float>();
  for (size_t i = 0; i < y.size(); ++i) CHECK(y[i] == doctest::Approx(xs[i] + w[i % 12]));

  const GradcheckResult r =
      gradcheck_module(learned, [&](const std::vector<Tensor>& in) { return learned(in[0]); }, {x});
  CHECK_MESSAGE(r.ok, r.report);

  learned(x).sum().backward();
  CHECK(parameters_without_grad(learned).empty());
  const std::vector<float> g = learned.weight.grad().to_vector<float>();
  for (size_t i = 0; i < g.size(); ++i) CHECK(g[i] == (i < 12 ? 2.0f : 0.0f));  // batch of 2

  CHECK_THROWS_WITH_AS(
      learned(zeros({1, 11, 4})),
      doctest::Contains("LearnedPositionalEmbedding: sequence length 11 exceeds max_len 10"),
      Error);
}

TEST_CASE("LearnedPositionalEmbedding starts N(0, 0.02^2)") {
  Generator gen(4);
  LearnedPositionalEmbedding learned(1000, 64, gen);
  const Moments m = moments_of(learned.weight);
  CHECK(std::abs(m.mean) < 0.001);
  CHECK(m.std == doctest::Approx(0.02).epsilon(0.02));
}
