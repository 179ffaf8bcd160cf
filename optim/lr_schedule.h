// Learning-rate schedules: the lr of every parameter group as a function of the step.
//
// A schedule scales each group's base lr (the group's lr when the schedule was made), so groups
// keep their ratios: with base lrs 1e-3 and 1e-4 and a factor of 0.5, the groups train at 5e-4
// and 5e-5. It works with any Optimizer:
//
//   AdamW opt(params, {.lr = 3e-4});
//   WarmupDecayLR schedule(opt, /*warmup_steps=*/100, /*total_steps=*/5000, Decay::Cosine);
//   for (...) { ...; opt.step(); schedule.step(); }
//
// Step s counts the schedule.step() calls so far: on construction the schedule sets lr_at(0),
// used by the first update; each step() then sets lr_at(s) for the next. (So warmup starts the
// first update at lr 0, as in Hugging Face's schedules; Noam numbers updates from 1, as the
// Transformer paper does.) Closed forms rather than recurrences: lr_at(s) can be printed or
// plotted for any s, and resuming from a checkpoint needs only s and the base lrs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framework/checkpoint.h"
#include "optim/optimizer.h"

namespace tg {

class LRSchedule {
 public:
  virtual ~LRSchedule() = default;
  LRSchedule(const LRSchedule&) = delete;
  LRSchedule& operator=(const LRSchedule&) = delete;

  void step();  // call after optimizer.step()
  int64_t step_count() const { return step_; }
  double lr(size_t group = 0) const;                   // the lr the optimizer's group has now
  double lr_at(int64_t step, size_t group = 0) const;  // the formula, for any step
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  const std::string& name() const { return name_; }

  // The step count, base lrs and any state of the schedule's own (not its constructor's
  // arguments: build the same schedule, then load). load_state checks first and sets the
  // optimizer's lrs to match.
  Checkpoint state() const;
  void load_state(const Checkpoint& state);
  void check_state(const Checkpoint& state) const;

 protected:
  LRSchedule(std::string name, Optimizer& optimizer);
  virtual double lr_for(double base_lr, int64_t step) const = 0;
  void apply();  // sets every group's lr to lr_for(base, step); constructors call it last
  virtual void save_extra(Checkpoint&) const {}
  virtual void check_extra(const Checkpoint&) const {}
  virtual void load_extra(const Checkpoint&) {}
  void advance() { ++step_; }

 private:
  std::vector<double> read_base_lrs(const Checkpoint& state) const;

  std::string name_;
  Optimizer& optimizer_;
  std::vector<double> base_lrs_;
  int64_t step_ = 0;
};

// lr = base * gamma^floor(s / step_size)
class StepLR : public LRSchedule {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);

 private:
  double lr_for(double base_lr, int64_t step) const override;
  int64_t step_size_;
  double gamma_;
};

// lr = base * gamma^s
class ExponentialLR : public LRSchedule {
 public:
  ExponentialLR(Optimizer& optimizer, double gamma);

 private:
  double lr_for(double base_lr, int64_t step) const override;
  double gamma_;
};

// lr = min_lr + (base - min_lr) * (1 + cos(pi * s / period)) / 2 for s <= period, then min_lr.
// (Loshchilov & Hutter, SGDR, 2017, without restarts.)
class CosineAnnealingLR : public LRSchedule {
 public:
  CosineAnnealingLR(Optimizer& optimizer, int64_t period, double min_lr = 0.0);

 private:
  double lr_for(double base_lr, int64_t step) const override;
  int64_t period_;
  double min_lr_;
};

// SGDR: the cosine above restarted at base every cycle; cycle i lasts first_period * mult^i
// steps. Within a cycle of length T at position t: min_lr + (base - min_lr)(1 + cos(pi t/T))/2.
class CosineAnnealingWarmRestarts : public LRSchedule {
 public:
  CosineAnnealingWarmRestarts(Optimizer& optimizer, int64_t first_period, int64_t period_mult = 1,
                              double min_lr = 0.0);

 private:
  double lr_for(double base_lr, int64_t step) const override;
  int64_t first_period_, period_mult_;
  double min_lr_;
};

enum class Decay { Cosine, Linear };

// Linear warmup from 0 to base over warmup_steps, then decay to 0 at total_steps:
//   s < W:   base * s / W
//   s >= W:  p = min(1, (s - W) / (total - W));
//            cosine: base * (1 + cos(pi p)) / 2      linear: base * (1 - p)
class WarmupDecayLR : public LRSchedule {
 public:
  WarmupDecayLR(Optimizer& optimizer, int64_t warmup_steps, int64_t total_steps, Decay decay);

 private:
  double lr_for(double base_lr, int64_t step) const override;
  int64_t warmup_steps_, total_steps_;
  Decay decay_;
};

// The Transformer's schedule (Vaswani et al. 2017, eq. 3), with n = s + 1 the update number:
//   lr = base * d_model^-0.5 * min(n^-0.5, n * warmup_steps^-1.5)
// Linear growth for warmup_steps updates, then decay as 1/sqrt(n). The paper's lr is this with
// base = 1 (the Annotated Transformer uses base = 2).
class NoamLR : public LRSchedule {
 public:
  NoamLR(Optimizer& optimizer, int64_t d_model, int64_t warmup_steps);

 private:
  double lr_for(double base_lr, int64_t step) const override;
  int64_t d_model_, warmup_steps_;
};

struct PlateauOptions {
  bool maximize = false;    // false: the metric is a loss; true: an accuracy
  double factor = 0.1;      // each reduction multiplies the lr by this
  int64_t patience = 10;    // steps without improvement tolerated before reducing
  double threshold = 1e-4;  // relative: better means below best * (1 - threshold)
  int64_t cooldown = 0;     // steps after a reduction during which bad steps are not counted
  double min_lr = 0.0;      // never reduce below
};

// Reduces the lr when a metric stops improving (PyTorch's ReduceLROnPlateau, relative threshold):
// lr = max(base * factor^k, min_lr) after k reductions. Call step(metric) once per evaluation.
class ReduceLROnPlateau : public LRSchedule {
 public:
  ReduceLROnPlateau(Optimizer& optimizer, PlateauOptions options = {});
  void step(double metric);
  int64_t reductions() const { return reductions_; }
  double best() const { return best_; }

 private:
  using LRSchedule::step;  // a plateau needs the metric
  double lr_for(double base_lr, int64_t step) const override;
  bool improves(double metric) const;
  void save_extra(Checkpoint& out) const override;
  void check_extra(const Checkpoint& in) const override;
  void load_extra(const Checkpoint& in) override;

  PlateauOptions options_;
  double best_;
  int64_t bad_steps_ = 0, cooldown_left_ = 0, reductions_ = 0;
};

}  // namespace tg
