// Learning-rate schedules: each lr sequence against its formula, group scaling, the optimizer
// seeing the lr, plateau logic, state round trip, errors.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include "optim/optim.h"
#include "optim_test_helpers.h"

using namespace tg;
using optim_test::parameter;

namespace {

constexpr double kPi = std::numbers::pi;

// Steps the schedule n times and returns the lr the optimizer held before each update.
std::vector<double> lr_sequence(LRSchedule& schedule, Optimizer& optimizer, int n) {
  std::vector<double> lrs;
  for (int i = 0; i < n; ++i) {
    lrs.push_back(optimizer.lr());
    CHECK(schedule.lr() == optimizer.lr());
    CHECK(schedule.lr_at(i) == optimizer.lr());
    schedule.step();
  }
  return lrs;
}

void check_sequence(const std::vector<double>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("step ", i);
    CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-12));
  }
}

}  // namespace

TEST_CASE("StepLR multiplies by gamma every step_size steps") {
  SGD opt({parameter({1.0f})}, {.lr = 1.0});
  StepLR schedule(opt, 3, 0.5);
  check_sequence(lr_sequence(schedule, opt, 8), {1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25});
}

TEST_CASE("ExponentialLR multiplies by gamma every step") {
  SGD opt({parameter({1.0f})}, {.lr = 2.0});
  ExponentialLR schedule(opt, 0.9);
  check_sequence(lr_sequence(schedule, opt, 4), {2.0, 1.8, 1.62, 1.458});
}

TEST_CASE("CosineAnnealingLR follows half a cosine from base to min_lr, then stays") {
  SGD opt({parameter({1.0f})}, {.lr = 1.0});
  CosineAnnealingLR schedule(opt, 4, 0.2);
  std::vector<double> want;
  for (int s = 0; s <= 4; ++s) want.push_back(0.2 + 0.8 * 0.5 * (1 + std::cos(kPi * s / 4)));
  want.push_back(0.2);
  check_sequence(lr_sequence(schedule, opt, 6), want);
  CHECK(want[2] == doctest::Approx(0.6));  // halfway: the mean of base and min_lr
}

TEST_CASE("CosineAnnealingWarmRestarts restarts at base, cycles grow by period_mult") {
  SGD opt({parameter({1.0f})}, {.lr = 1.0});
  CosineAnnealingWarmRestarts schedule(opt, 2, 2);  // cycles of 2, 4, 8 steps
  const auto cosine = [](double t, double period) {
    return 0.5 * (1 + std::cos(kPi * t / period));
  };
  check_sequence(lr_sequence(schedule, opt, 8),
                 {1, cosine(1, 2), 1, cosine(1, 4), cosine(2, 4), cosine(3, 4), 1, cosine(1, 8)});

  SGD flat_opt({parameter({1.0f})}, {.lr = 1.0});
  CosineAnnealingWarmRestarts same_length(flat_opt, 3, 1, 0.1);
  const auto at = [](int t) { return 0.1 + 0.9 * 0.5 * (1 + std::cos(kPi * t / 3)); };
  check_sequence(lr_sequence(same_length, flat_opt, 7),
                 {at(0), at(1), at(2), at(0), at(1), at(2), at(0)});
}

TEST_CASE("WarmupDecayLR: linear warmup, then cosine or linear decay to zero") {
  SGD opt({parameter({1.0f})}, {.lr = 0.1});
  WarmupDecayLR cosine(opt, 4, 12, Decay::Cosine);
  std::vector<double> want;
  for (int s = 0; s < 14; ++s) {
    if (s < 4)
      want.push_back(0.1 * s / 4);
    else
      want.push_back(0.1 * 0.5 * (1 + std::cos(kPi * std::min(1.0, (s - 4) / 8.0))));
  }
  const std::vector<double> got = lr_sequence(cosine, opt, 14);
  check_sequence(got, want);
  CHECK(got[4] == doctest::Approx(0.1));  // the peak is the base lr
  CHECK(got[12] == doctest::Approx(0.0));

  SGD opt2({parameter({1.0f})}, {.lr = 0.1});
  WarmupDecayLR linear(opt2, 2, 6, Decay::Linear);
  check_sequence(lr_sequence(linear, opt2, 8), {0, 0.05, 0.1, 0.075, 0.05, 0.025, 0, 0});
}

TEST_CASE("NoamLR is the Transformer paper's formula with the update number n = s + 1") {
  SGD opt({parameter({1.0f})}, {.lr = 1.0});
  NoamLR schedule(opt, 512, 4000);
  const auto paper = [](double n) {
    return std::pow(512.0, -0.5) * std::min(std::pow(n, -0.5), n * std::pow(4000.0, -1.5));
  };
  for (int64_t s : {0, 1, 100, 3998, 3999, 4000, 20000}) {
    INFO("step ", s);
    CHECK(schedule.lr_at(s) == doctest::Approx(paper(static_cast<double>(s + 1))).epsilon(1e-12));
  }
  CHECK(schedule.lr_at(3999) > schedule.lr_at(3998));  // the peak is update 4000
  CHECK(schedule.lr_at(3999) > schedule.lr_at(4000));
  CHECK(opt.lr() == doctest::Approx(paper(1)));
}

TEST_CASE("a schedule scales each group's base lr") {
  SGD opt(std::vector<ParamGroup>{{.params = {parameter({1.0f})}, .lr = 1e-3},
                                  {.params = {parameter({1.0f})}, .lr = 1e-4}});
  StepLR schedule(opt, 1, 0.5);
  schedule.step();
  CHECK(opt.lr(0) == doctest::Approx(5e-4));
  CHECK(opt.lr(1) == doctest::Approx(5e-5));
  CHECK(schedule.base_lrs() == std::vector<double>{1e-3, 1e-4});
  CHECK(schedule.lr_at(2, 1) == doctest::Approx(2.5e-5));
}

TEST_CASE("the optimizer uses the scheduled lr") {
  Tensor p = parameter({0.0f});
  SGD opt({p}, {.lr = 1.0});
  StepLR schedule(opt, 1, 0.1);
  for (int i = 0; i < 3; ++i) {
    optim_test::set_grad(p, {-1.0f});
    opt.step();
    schedule.step();
  }
  CHECK(p.item() == doctest::Approx(1.11));  // 1 + 0.1 + 0.01
}

TEST_CASE("ReduceLROnPlateau reduces after patience bad steps, waits a cooldown, stops at min_lr") {
  SGD opt({parameter({1.0f})}, {.lr = 1.0});
  ReduceLROnPlateau schedule(opt, {.factor = 0.5, .patience = 2, .cooldown = 1, .min_lr = 0.2});
  const std::vector<double> losses = {1.0,  0.9,  0.95, 0.95, 0.95, 0.95,
                                      0.95, 0.95, 0.95, 0.95, 0.95};
  // bad steps:                     -    -    1     2     3:cut  cool  1     2     3:cut cool  1
  const std::vector<double> want = {1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25};
  for (size_t i = 0; i < losses.size(); ++i) {
    schedule.step(losses[i]);
    INFO("after metric ", i);
    CHECK(opt.lr() == doctest::Approx(want[i]));
  }
  CHECK(schedule.best() == 0.9);
  CHECK(schedule.reductions() == 2);
  for (int i = 0; i < 10; ++i) schedule.step(1.0);
  CHECK(opt.lr() == doctest::Approx(0.2));  // min_lr

  SGD opt2({parameter({1.0f})}, {.lr = 1.0});
  ReduceLROnPlateau accuracy(opt2, {.maximize = true, .patience = 0});
  accuracy.step(0.5);
  accuracy.step(0.6);
  CHECK(opt2.lr() == 1.0);
  accuracy.step(0.6);  // no improvement, patience 0: cut at once
  CHECK(opt2.lr() == doctest::Approx(0.1));
  CHECK_THROWS_WITH_AS(accuracy.step(std::nan("")),
                       doctest::Contains("ReduceLROnPlateau: the metric is NaN"), Error);
}

TEST_CASE("schedule state round trip resumes the same sequence") {
  SGD opt({parameter({1.0f})}, {.lr = 0.1});
  WarmupDecayLR schedule(opt, 3, 10, Decay::Cosine);
  for (int i = 0; i < 5; ++i) schedule.step();
  const Checkpoint state = schedule.state();
  CHECK(state.get_int("step") == 5);

  SGD fresh_opt({parameter({1.0f})}, {.lr = 0.7});
  WarmupDecayLR fresh(fresh_opt, 3, 10, Decay::Cosine);
  fresh.load_state(state);
  CHECK(fresh_opt.lr() == opt.lr());
  CHECK(fresh.base_lrs() == std::vector<double>{0.1});
  for (int i = 0; i < 4; ++i) {
    schedule.step();
    fresh.step();
    CHECK(fresh_opt.lr() == opt.lr());
  }

  SGD plateau_opt({parameter({1.0f})}, {.lr = 1.0});
  ReduceLROnPlateau plateau(plateau_opt, {.patience = 0});
  plateau.step(1.0);
  plateau.step(2.0);
  SGD plateau_opt2({parameter({1.0f})}, {.lr = 1.0});
  ReduceLROnPlateau plateau2(plateau_opt2, {.patience = 0});
  plateau2.load_state(plateau.state());
  CHECK(plateau2.best() == 1.0);
  CHECK(plateau2.reductions() == 1);
  CHECK(plateau_opt2.lr() == doctest::Approx(0.1));

  CHECK_THROWS_WITH_AS(fresh.load_state(plateau.state()),
                       doctest::Contains("the state is for ReduceLROnPlateau, this schedule is "
                                         "WarmupDecayLR"),
                       Error);
}

TEST_CASE("schedule errors name the schedule and the argument") {
  SGD opt({parameter({1.0f})});
  CHECK_THROWS_WITH_AS(StepLR(opt, 0), doctest::Contains("StepLR: step_size must be > 0, got 0"),
                       Error);
  CHECK_THROWS_WITH_AS(WarmupDecayLR(opt, 10, 10, Decay::Linear),
                       doctest::Contains("WarmupDecayLR: total_steps must exceed warmup_steps"),
                       Error);
  CHECK_THROWS_WITH_AS(NoamLR(opt, 512, 0), doctest::Contains("NoamLR: warmup_steps must be > 0"),
                       Error);
  CHECK_THROWS_WITH_AS(CosineAnnealingWarmRestarts(opt, 5, 0),
                       doctest::Contains("period_mult must be >= 1"), Error);
  CHECK_THROWS_WITH_AS(ReduceLROnPlateau(opt, {.factor = 1.0}),
                       doctest::Contains("ReduceLROnPlateau: factor must be in (0, 1)"), Error);
  ExponentialLR schedule(opt, 0.5);
  CHECK_THROWS_WITH_AS(schedule.lr_at(-1), doctest::Contains("lr_at needs a step >= 0"), Error);
}
