// Saving and resuming training: a Module, an Optimizer, a schedule and the random generators in
// one Checkpoint (file format: framework/serialize.h).
//
//   TrainingState state{&model, &optimizer, &schedule};
//   Checkpoint checkpoint = capture(state);
//   checkpoint.set_int("epoch", epoch);                    // any user metadata
//   save_checkpoint(checkpoint, "run/last.tgc");
//   ...
//   Checkpoint loaded = load_checkpoint("run/last.tgc");
//   restore(loaded, state);                                // all or nothing
//   int64_t epoch = loaded.get_int("epoch");
//
// Layout inside the Checkpoint: tensors "model.<parameter or buffer name>" and
// "optim.group0.param3.exp_avg"; metadata "optim.*", "schedule.*", "rng.<name>.seed" and
// "rng.<name>.offset". Those prefixes are reserved; every other key is the user's.
//
// Restoring the generators matters: Dropout draws its masks from default_generator(), so a resumed
// run without it would drop different units than the uninterrupted one.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "framework/checkpoint.h"
#include "framework/random.h"
#include "layers/module.h"
#include "optim/lr_schedule.h"
#include "optim/optimizer.h"

namespace tg {

struct TrainingState {
  Module* model = nullptr;
  Optimizer* optimizer = nullptr;  // optional
  LRSchedule* schedule = nullptr;  // optional
  std::vector<std::pair<std::string, Generator*>> generators = {{"default", &default_generator()}};
};

Checkpoint capture(const TrainingState& state);
// Checks every part (model tensors, optimizer state, schedule state, generators) before it
// changes any; then loads them all. Non-strict tolerates missing or unexpected model tensors
// (listed in the report) and a checkpoint without optimizer or schedule state.
LoadReport restore(const Checkpoint& checkpoint, const TrainingState& state, bool strict = true);

// Just the model: its parameters and buffers under "model.".
Checkpoint model_checkpoint(const Module& model);
LoadReport load_into(const Checkpoint& checkpoint, Module& model, bool strict = true);

}  // namespace tg
