#include "layers/model_checkpoint.h"

#include "layers/head_pruning.h"
#include "layers/quantize.h"

namespace tg {

static NamedTensors model_tensors(const Module& model) {
  NamedTensors all = model.named_parameters();
  for (auto& entry : model.named_buffers()) all.push_back(std::move(entry));
  return all;
}

Checkpoint model_checkpoint(const Module& model) {
  Checkpoint out;
  for (const auto& [name, tensor] : model_tensors(model)) out.add_tensor("model." + name, tensor);
  save_head_layout(model, out);  // "heads.<layer>": the heads each pruned layer kept
  mark_quantization(out, model);
  return out;
}

LoadReport load_into(const Checkpoint& checkpoint, Module& model, bool strict) {
  check_same_quantization(checkpoint, model, "load_into " + model.type_name());
  apply_head_layout(checkpoint, model);  // a pruned model's shapes, before its tensors
  return load_named_tensors(checkpoint, "model.", model_tensors(model), strict,
                            "load_into " + model.type_name(), model.named_computed_buffers());
}

}  // namespace tg
