// Int8 post-training quantization of a trained model, for inference.
//
//   quantize_linears(model);                       // every Linear: int8 weight, float input
//   quantize_linears(model, Int8Activations::Dynamic);  // and int8 x int8 products
//   save_checkpoint(model_checkpoint(model), "model_int8.tg");   // about 1/4 of the bytes
//
// Design: models hold their Linear layers by value (FeedForward's up and down, every attention's
// w_q, w_k, w_v and w_o), so a Linear cannot be swapped for a QuantizedLinear without changing
// every model. Instead Linear holds an optional int8 weight (Linear::quantize_int8), and
// quantize_linears converts every Linear of a model in place: the model's code, its forward and
// its names stay as they were; only the checkpoint keys of a weight change, "<path>.weight"
// becoming "<path>.weight_int8" and "<path>.weight_scale". The rest stays float: biases, layer
// norms and embeddings (a lookup, not a product) are small, and an LSTM's cells run fused gates.
//
// A quantized model is for inference: its Linear layers refuse train mode and backward.
//
// Checkpoints: model_checkpoint marks a quantized model's checkpoint with the metadata
// "model.quantization" (kQuantizationScheme) and "model.quantization.activations" (float or
// dynamic); load_into refuses a quantized checkpoint into a float model and a float one into a
// quantized model, saying what to do. To load a checkpoint that may be quantized into a freshly
// built (float) model: quantize_like(checkpoint, model), then load_into(checkpoint, model).
#pragma once

#include <optional>

#include "framework/checkpoint.h"
#include "framework/ops/quantized.h"
#include "layers/module.h"

namespace tg {

inline constexpr const char* kQuantizationScheme = "int8, per output channel, symmetric";

// Quantizes every Linear of model (itself included) and puts the model in eval mode. Returns
// how many layers it quantized. tg::Error when the model has no Linear or is already quantized.
int64_t quantize_linears(Module& model, Int8Activations mode = Int8Activations::Float);
// Whether model holds a quantized Linear, and how its products treat their input.
std::optional<Int8Activations> quantization_of(const Module& model);
// Changes how a quantized model's products treat their input (the weights stay as they are).
void set_int8_activations(Module& model, Int8Activations mode);

// What a checkpoint says: its model's activation mode when quantized, nothing when float.
std::optional<Int8Activations> quantization_of(const Checkpoint& checkpoint);
// Writes the marks of model's quantization into checkpoint (nothing for a float model).
void mark_quantization(Checkpoint& checkpoint, const Module& model);
// tg::Error, for who ("load_into MLP"), unless checkpoint and model are both float or both int8.
void check_same_quantization(const Checkpoint& checkpoint, const Module& model,
                             const std::string& who);
// Quantizes model as checkpoint's model was, when it was; nothing otherwise. The weights it
// computes are placeholders for load_into to overwrite.
void quantize_like(const Checkpoint& checkpoint, Module& model);

}  // namespace tg
