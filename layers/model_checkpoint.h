// A model's own checkpoint: its parameters and buffers under "model.", as optim's training
// checkpoint (optim/training_checkpoint.h) stores them, so a training checkpoint also loads here.
#pragma once

#include "framework/checkpoint.h"
#include "layers/module.h"

namespace tg {

Checkpoint model_checkpoint(const Module& model);
// A quantized model's checkpoint says so in its metadata (layers/quantize.h).
// Copies the checkpoint's "model." tensors into model's parameters and buffers. Strict: every
// name must match both ways; non-strict lists the missing and unexpected ones in the report.
// A quantized checkpoint into a float model, or the reverse, is a tg::Error saying what to do.
LoadReport load_into(const Checkpoint& checkpoint, Module& model, bool strict = true);

}  // namespace tg
