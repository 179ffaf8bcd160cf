// The programs' int8 flags: --quantize OUT writes a loaded float model as an int8 checkpoint
// (layers/quantize.h), --int8-activations makes its products int8 x int8; --predict and
// --evaluate load either kind of checkpoint.
#pragma once

#include <string>

#include "framework/checkpoint.h"
#include "layers/module.h"

namespace tg::program {

// Loads checkpoint's model into model, quantizing model first when the checkpoint is int8.
void load_model(const Checkpoint& checkpoint, Module& model);

// Quantizes the (float, loaded) model and writes its checkpoint to path, with header's metadata
// (what the program needs to rebuild the model: configuration, vocabularies) alongside. Prints
// the size of the int8 checkpoint against the same model's float checkpoint.
void save_quantized(Module& model, bool int8_activations, const Checkpoint& header,
                    const std::string& path);

}  // namespace tg::program
