#include "examples/program/quantized_model.h"

#include <cstdio>

#include "framework/serialize.h"
#include "layers/model_checkpoint.h"
#include "layers/quantize.h"

namespace tg::program {

void load_model(const Checkpoint& checkpoint, Module& model) {
  quantize_like(checkpoint, model);
  load_into(checkpoint, model);
}

void save_quantized(Module& model, bool int8_activations, const Checkpoint& header,
                    const std::string& path) {
  const size_t float_bytes = encode_checkpoint(model_checkpoint(model)).size();
  const int64_t layers =
      quantize_linears(model, int8_activations ? Int8Activations::Dynamic : Int8Activations::Float);
  Checkpoint checkpoint = model_checkpoint(model);
  checkpoint.merge("", header);
  save_checkpoint(checkpoint, path);
  const size_t int8_bytes = encode_checkpoint(checkpoint).size();
  std::printf(
      "wrote %s: %lld Linear layers in int8 (activations %s), %zu bytes; the float "
      "model's checkpoint: %zu bytes (%.2fx smaller)\n",
      path.c_str(), static_cast<long long>(layers), int8_activations ? "int8" : "float", int8_bytes,
      float_bytes, static_cast<double>(float_bytes) / static_cast<double>(int8_bytes));
}

}  // namespace tg::program
