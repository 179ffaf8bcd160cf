#include "optim/training_checkpoint.h"

namespace tg {

Checkpoint capture(const TrainingState& state) {
  Checkpoint out;
  for (const auto& [name, tensor] : state.model_tensors()) out.add_tensor("model." + name, tensor);
  if (state.optimizer) out.merge("optim.", state.optimizer->state());
  if (state.schedule) out.merge("schedule.", state.schedule->state());
  for (const auto& [name, generator] : state.generators) {
    out.set_uint("rng." + name + ".seed", generator->seed());
    out.set_uint("rng." + name + ".offset", generator->offset());
  }
  return out;
}

LoadReport restore(const Checkpoint& checkpoint, const TrainingState& state, bool strict) {
  const std::string where = "restore from " + checkpoint.source();
  const auto has_part = [&](const std::string& prefix) {
    const auto it = checkpoint.metadata().lower_bound(prefix);
    return it != checkpoint.metadata().end() && it->first.starts_with(prefix);
  };

  // An int8 model (layers/quantize.h) is for inference: there is nothing to resume.
  check(!checkpoint.has("model.quantization"), where,
        ": the checkpoint holds an int8-quantized model, for inference only; training resumes "
        "from a float checkpoint");

  // Phase 1: check every part but the model without applying any.
  const NamedTensors targets = state.model_tensors();
  Checkpoint optimizer_state, schedule_state;
  const bool load_optimizer = state.optimizer && (strict || has_part("optim."));
  const bool load_schedule = state.schedule && (strict || has_part("schedule."));
  if (load_optimizer) {
    check(has_part("optim."), where, ": the checkpoint has no optimizer state");
    optimizer_state = checkpoint.extract("optim.");
    state.optimizer->check_state(optimizer_state);
  }
  if (load_schedule) {
    check(has_part("schedule."), where, ": the checkpoint has no schedule state");
    schedule_state = checkpoint.extract("schedule.");
    state.schedule->check_state(schedule_state);
  }
  std::vector<std::pair<uint64_t, uint64_t>> generator_states;
  for (const auto& [name, generator] : state.generators) {
    const std::string key = "rng." + name + ".";
    if (!strict && !checkpoint.has(key + "seed")) {
      generator_states.emplace_back(generator->seed(), generator->offset());
      continue;
    }
    generator_states.emplace_back(checkpoint.get_uint(key + "seed"),
                                  checkpoint.get_uint(key + "offset"));
  }

  // Phase 2: the model checks its own tensors before copying any; after it, nothing can fail.
  LoadReport report = load_named_tensors(checkpoint, "model.", targets, strict,
                                         "load_into " + state.model_name + " (restore)",
                                         state.computed_model_tensors());
  if (load_optimizer) state.optimizer->load_state(optimizer_state);
  if (load_schedule) state.schedule->load_state(schedule_state);
  for (size_t i = 0; i < state.generators.size(); ++i)
    state.generators[i].second->set_state(generator_states[i].first, generator_states[i].second);
  return report;
}

}  // namespace tg
