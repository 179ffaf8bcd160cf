#include "layers/quantize.h"

#include <functional>
#include <utility>

#include "layers/linear.h"

namespace tg {

namespace {

const char* const kSchemeKey = "model.quantization";
const char* const kActivationsKey = "model.quantization.activations";

// Every Linear of model, itself included, depth first.
void for_each_linear(Module& model, const std::function<void(Linear&)>& visit) {
  if (auto* linear = dynamic_cast<Linear*>(&model)) visit(*linear);
  for (auto& [name, child] : model.named_children()) for_each_linear(*child, visit);
}

void for_each_linear(const Module& model, const std::function<void(const Linear&)>& visit) {
  if (const auto* linear = dynamic_cast<const Linear*>(&model)) visit(*linear);
  for (const auto& [name, child] : model.named_children()) for_each_linear(*child, visit);
}

}  // namespace

int64_t quantize_linears(Module& model, Int8Activations mode) {
  std::string quantized;
  int64_t count = 0;
  for_each_linear(std::as_const(model), [&](const Linear& linear) {
    ++count;
    if (linear.is_quantized() && quantized.empty()) quantized = linear.path();
  });
  const std::string who = "quantize_linears " + model.type_name();
  check(count > 0, who, ": the model has no Linear layer to quantize");
  check(quantized.empty(), who, ": the model is already quantized to int8 (", quantized,
        " is); quantize the float model once");
  for_each_linear(model, [&](Linear& linear) { linear.quantize_int8(mode); });
  model.eval();
  return count;
}

std::optional<Int8Activations> quantization_of(const Module& model) {
  std::optional<Int8Activations> mode;
  for_each_linear(model, [&](const Linear& linear) {
    if (linear.is_quantized() && !mode) mode = linear.activations;
  });
  return mode;
}

void set_int8_activations(Module& model, Int8Activations mode) {
  check(quantization_of(std::as_const(model)).has_value(), "set_int8_activations ",
        model.type_name(), ": the model is not quantized (quantize_linears first)");
  for_each_linear(model, [&](Linear& linear) { linear.activations = mode; });
}

std::optional<Int8Activations> quantization_of(const Checkpoint& checkpoint) {
  if (!checkpoint.has(kSchemeKey)) return std::nullopt;
  const std::string& scheme = checkpoint.get_string(kSchemeKey);
  check(scheme == kQuantizationScheme, checkpoint.source(), ": quantization '", scheme,
        "' is not the one this build reads ('", kQuantizationScheme, "')");
  const std::string& activations = checkpoint.get_string(kActivationsKey);
  check(activations == "float" || activations == "dynamic", checkpoint.source(), ": ",
        kActivationsKey, " must be float or dynamic, got '", activations, "'");
  return activations == "float" ? Int8Activations::Float : Int8Activations::Dynamic;
}

void mark_quantization(Checkpoint& checkpoint, const Module& model) {
  const std::optional<Int8Activations> mode = quantization_of(model);
  if (!mode) return;
  checkpoint.set_string(kSchemeKey, kQuantizationScheme);
  checkpoint.set_string(kActivationsKey, to_string(*mode));
}

void check_same_quantization(const Checkpoint& checkpoint, const Module& model,
                             const std::string& who) {
  const bool int8_checkpoint = quantization_of(checkpoint).has_value();
  const bool int8_model = quantization_of(model).has_value();
  check(!int8_checkpoint || int8_model, who, ": ", checkpoint.source(),
        " holds an int8-quantized model and the model is float; quantize it first "
        "(quantize_like(checkpoint, model) does as the checkpoint says)");
  check(int8_checkpoint || !int8_model, who, ": the model is quantized to int8 and ",
        checkpoint.source(), " holds float weights; load them before quantizing");
}

void quantize_like(const Checkpoint& checkpoint, Module& model) {
  if (const std::optional<Int8Activations> mode = quantization_of(checkpoint))
    quantize_linears(model, *mode);
}

}  // namespace tg
