// A model's own checkpoint: its parameters and buffers under "model.", as optim's training
// checkpoint (optim/training_checkpoint.h) stores them, so a training checkpoint also loads here.
#pragma once

#include "framework/checkpoint.h"
#include "layers/module.h"

namespace tg {

// Attention layers with pruned heads are recorded too (layers/head_pruning.h), and load_into
// prunes model to match before copying, so a pruned model loads into a freshly built one.
Checkpoint model_checkpoint(const Module& model);
// A quantized model's checkpoint says so in its metadata (layers/quantize.h).
// Copies the checkpoint's "model." tensors into model's parameters and buffers. Strict: every
// name must match both ways; non-strict lists the missing and unexpected ones in the report.
// A quantized checkpoint into a float model, or the reverse, is a tg::Error saying what to do.
LoadReport load_into(const Checkpoint& checkpoint, Module& model, bool strict = true);

}  // namespace tg
