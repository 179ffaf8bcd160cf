// Saving and resuming training: a model, an Optimizer, a schedule and the random generators in
// one Checkpoint (file format: framework/serialize.h). optim/ knows nothing of layers: the model
// is anything with named_parameters(), named_buffers() and type_name(), such as a Module (whose
// own checkpoint functions, model_checkpoint and load_into, are in layers/model_checkpoint.h).
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

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "framework/checkpoint.h"
#include "framework/random.h"
#include "optim/lr_schedule.h"
#include "optim/optimizer.h"

namespace tg {

// What a training checkpoint needs of a model: its tensors by name, and a name for messages.
template <class Model>
concept CheckpointableModel = requires(const Model& model) {
  { model.named_parameters() } -> std::convertible_to<NamedTensors>;
  { model.named_buffers() } -> std::convertible_to<NamedTensors>;
  { model.type_name() } -> std::convertible_to<std::string>;
};

struct TrainingState {
  // The model's parameters then buffers, read when the state is captured or restored (so a
  // model moved to another device after this TrainingState was made is seen as it is then).
  std::function<NamedTensors()> model_tensors;
  // Its computed buffers (Module::named_computed_buffers), if it has such: not saved, but
  // loaded from a checkpoint written before they were computed ones.
  std::function<NamedTensors()> computed_model_tensors = [] { return NamedTensors{}; };
  std::string model_name;          // "load_into <model_name> (restore)" in messages
  Optimizer* optimizer = nullptr;  // optional
  LRSchedule* schedule = nullptr;  // optional
  std::vector<std::pair<std::string, Generator*>> generators = {{"default", &default_generator()}};

  template <CheckpointableModel Model>
  TrainingState(Model* model, Optimizer* optimizer = nullptr, LRSchedule* schedule = nullptr)
      : model_tensors([model] {
          NamedTensors all = model->named_parameters();
          for (auto& entry : model->named_buffers()) all.push_back(std::move(entry));
          return all;
        }),
        model_name(model->type_name()),
        optimizer(optimizer),
        schedule(schedule) {
    if constexpr (requires { model->named_computed_buffers(); })
      computed_model_tensors = [model] { return model->named_computed_buffers(); };
  }
};

Checkpoint capture(const TrainingState& state);
// Checks every part (model tensors, optimizer state, schedule state, generators) before it
// changes any; then loads them all. Non-strict tolerates missing or unexpected model tensors
// (listed in the report) and a checkpoint without optimizer or schedule state.
LoadReport restore(const Checkpoint& checkpoint, const TrainingState& state, bool strict = true);

}  // namespace tg
