#include "optim/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace tg {

namespace {

double cosine_between(double low, double high, double progress) {
  return low + (high - low) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
}

std::string base_key(size_t group) { return "base_lr." + std::to_string(group); }

}  // namespace

// ---- base ----

LRSchedule::LRSchedule(std::string name, Optimizer& optimizer)
    : name_(std::move(name)), optimizer_(optimizer) {
  for (size_t g = 0; g < optimizer.param_groups().size(); ++g) base_lrs_.push_back(optimizer.lr(g));
}

void LRSchedule::apply() {
  for (size_t g = 0; g < base_lrs_.size(); ++g) optimizer_.set_lr(g, lr_for(base_lrs_[g], step_));
}

void LRSchedule::step() {
  advance();
  apply();
}

double LRSchedule::lr(size_t group) const { return optimizer_.lr(group); }

double LRSchedule::lr_at(int64_t step, size_t group) const {
  check(group < base_lrs_.size(), name_, ": no group ", group, " (", base_lrs_.size(), " groups)");
  check(step >= 0, name_, ": lr_at needs a step >= 0, got ", step);
  return lr_for(base_lrs_[group], step);
}

Checkpoint LRSchedule::state() const {
  Checkpoint out;
  out.set_string("type", name_);
  out.set_int("step", step_);
  out.set_int("group_count", static_cast<int64_t>(base_lrs_.size()));
  for (size_t g = 0; g < base_lrs_.size(); ++g) out.set_double(base_key(g), base_lrs_[g]);
  save_extra(out);
  return out;
}

std::vector<double> LRSchedule::read_base_lrs(const Checkpoint& in) const {
  const std::string where = name_ + ": load_state from " + in.source();
  const std::string& type = in.get_string("type");
  check(type == name_, where, ": the state is for ", type, ", this schedule is ", name_);
  check(in.get_int("step") >= 0, where, ": negative step ", in.get_int("step"));
  const int64_t groups = in.get_int("group_count");
  check(groups == static_cast<int64_t>(base_lrs_.size()), where, ": the state has ", groups,
        " groups, the optimizer has ", base_lrs_.size());
  std::vector<double> base_lrs;
  for (size_t g = 0; g < base_lrs_.size(); ++g) {
    base_lrs.push_back(in.get_double(base_key(g)));
    check(std::isfinite(base_lrs.back()) && base_lrs.back() >= 0, where, ": ", base_key(g),
          " must be a finite lr >= 0, got ", base_lrs.back());
  }
  check_extra(in);
  return base_lrs;
}

void LRSchedule::check_state(const Checkpoint& in) const { read_base_lrs(in); }

void LRSchedule::load_state(const Checkpoint& in) {
  base_lrs_ = read_base_lrs(in);
  step_ = in.get_int("step");
  load_extra(in);
  apply();
}

// ---- closed forms ----

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LRSchedule("StepLR", optimizer), step_size_(step_size), gamma_(gamma) {
  check(step_size > 0, "StepLR: step_size must be > 0, got ", step_size);
  check(gamma > 0, "StepLR: gamma must be > 0, got ", gamma);
  apply();
}

double StepLR::lr_for(double base_lr, int64_t step) const {
  return base_lr * std::pow(gamma_, static_cast<double>(step / step_size_));
}

ExponentialLR::ExponentialLR(Optimizer& optimizer, double gamma)
    : LRSchedule("ExponentialLR", optimizer), gamma_(gamma) {
  check(gamma > 0, "ExponentialLR: gamma must be > 0, got ", gamma);
  apply();
}

double ExponentialLR::lr_for(double base_lr, int64_t step) const {
  return base_lr * std::pow(gamma_, static_cast<double>(step));
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t period, double min_lr)
    : LRSchedule("CosineAnnealingLR", optimizer), period_(period), min_lr_(min_lr) {
  check(period > 0, "CosineAnnealingLR: period must be > 0, got ", period);
  check(min_lr >= 0, "CosineAnnealingLR: min_lr must be >= 0, got ", min_lr);
  apply();
}

double CosineAnnealingLR::lr_for(double base_lr, int64_t step) const {
  if (step >= period_) return min_lr_;
  return cosine_between(min_lr_, base_lr, static_cast<double>(step) / static_cast<double>(period_));
}

CosineAnnealingWarmRestarts::CosineAnnealingWarmRestarts(Optimizer& optimizer, int64_t first_period,
                                                         int64_t period_mult, double min_lr)
    : LRSchedule("CosineAnnealingWarmRestarts", optimizer),
      first_period_(first_period),
      period_mult_(period_mult),
      min_lr_(min_lr) {
  check(first_period > 0, "CosineAnnealingWarmRestarts: first_period must be > 0, got ",
        first_period);
  check(period_mult >= 1, "CosineAnnealingWarmRestarts: period_mult must be >= 1, got ",
        period_mult);
  check(min_lr >= 0, "CosineAnnealingWarmRestarts: min_lr must be >= 0, got ", min_lr);
  apply();
}

double CosineAnnealingWarmRestarts::lr_for(double base_lr, int64_t step) const {
  // Walk the cycles in integers: exact, and at most ~63 iterations when period_mult > 1.
  int64_t position = step, period = first_period_;
  if (period_mult_ == 1) {
    position = step % period;
  } else {
    while (position >= period) {
      position -= period;
      if (period > std::numeric_limits<int64_t>::max() / period_mult_) break;
      period *= period_mult_;
    }
  }
  return cosine_between(min_lr_, base_lr,
                        static_cast<double>(position) / static_cast<double>(period));
}

WarmupDecayLR::WarmupDecayLR(Optimizer& optimizer, int64_t warmup_steps, int64_t total_steps,
                             Decay decay)
    : LRSchedule("WarmupDecayLR", optimizer),
      warmup_steps_(warmup_steps),
      total_steps_(total_steps),
      decay_(decay) {
  check(warmup_steps >= 0, "WarmupDecayLR: warmup_steps must be >= 0, got ", warmup_steps);
  check(total_steps > warmup_steps, "WarmupDecayLR: total_steps must exceed warmup_steps, got ",
        total_steps, " <= ", warmup_steps);
  apply();
}

double WarmupDecayLR::lr_for(double base_lr, int64_t step) const {
  if (step < warmup_steps_)
    return base_lr * static_cast<double>(step) / static_cast<double>(warmup_steps_);
  const double progress = std::min(1.0, static_cast<double>(step - warmup_steps_) /
                                            static_cast<double>(total_steps_ - warmup_steps_));
  return decay_ == Decay::Cosine ? cosine_between(0.0, base_lr, progress)
                                 : base_lr * (1.0 - progress);
}

NoamLR::NoamLR(Optimizer& optimizer, int64_t d_model, int64_t warmup_steps)
    : LRSchedule("NoamLR", optimizer), d_model_(d_model), warmup_steps_(warmup_steps) {
  check(d_model > 0, "NoamLR: d_model must be > 0, got ", d_model);
  check(warmup_steps > 0, "NoamLR: warmup_steps must be > 0, got ", warmup_steps);
  apply();
}

double NoamLR::lr_for(double base_lr, int64_t step) const {
  const double n = static_cast<double>(step + 1);
  return base_lr / std::sqrt(static_cast<double>(d_model_)) *
         std::min(1.0 / std::sqrt(n), n * std::pow(static_cast<double>(warmup_steps_), -1.5));
}

// ---- reduce on plateau ----

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, PlateauOptions options)
    : LRSchedule("ReduceLROnPlateau", optimizer),
      options_(options),
      best_(options.maximize ? -std::numeric_limits<double>::infinity()
                             : std::numeric_limits<double>::infinity()) {
  check(options.factor > 0 && options.factor < 1,
        "ReduceLROnPlateau: factor must be in (0, 1), got ", options.factor);
  check(options.patience >= 0, "ReduceLROnPlateau: patience must be >= 0, got ", options.patience);
  check(options.cooldown >= 0, "ReduceLROnPlateau: cooldown must be >= 0, got ", options.cooldown);
  check(options.threshold >= 0, "ReduceLROnPlateau: threshold must be >= 0, got ",
        options.threshold);
  apply();
}

bool ReduceLROnPlateau::improves(double metric) const {
  if (options_.maximize) return metric > best_ * (1.0 + options_.threshold);
  return metric < best_ * (1.0 - options_.threshold);
}

void ReduceLROnPlateau::step(double metric) {
  check(!std::isnan(metric), "ReduceLROnPlateau: the metric is NaN");
  if (improves(metric)) {
    best_ = metric;
    bad_steps_ = 0;
  } else {
    ++bad_steps_;
  }
  if (cooldown_left_ > 0) {  // just reduced: give the new lr time before judging it
    --cooldown_left_;
    bad_steps_ = 0;
  }
  if (bad_steps_ > options_.patience) {
    ++reductions_;
    cooldown_left_ = options_.cooldown;
    bad_steps_ = 0;
  }
  advance();
  apply();
}

double ReduceLROnPlateau::lr_for(double base_lr, int64_t) const {
  if (reductions_ == 0) return base_lr;
  return std::max(base_lr * std::pow(options_.factor, static_cast<double>(reductions_)),
                  options_.min_lr);
}

void ReduceLROnPlateau::save_extra(Checkpoint& out) const {
  out.set_double("best", best_);
  out.set_int("bad_steps", bad_steps_);
  out.set_int("cooldown_left", cooldown_left_);
  out.set_int("reductions", reductions_);
}

void ReduceLROnPlateau::check_extra(const Checkpoint& in) const {
  in.get_double("best");
  check(in.get_int("bad_steps") >= 0 && in.get_int("cooldown_left") >= 0 &&
            in.get_int("reductions") >= 0,
        name(), ": load_state from ", in.source(), ": negative counters");
}

void ReduceLROnPlateau::load_extra(const Checkpoint& in) {
  best_ = in.get_double("best");
  bad_steps_ = in.get_int("bad_steps");
  cooldown_left_ = in.get_int("cooldown_left");
  reductions_ = in.get_int("reductions");
}

}  // namespace tg
