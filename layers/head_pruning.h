// Physical head pruning (Michel, Levy & Neubig 2019): a head that is switched off for good is
// cut out of the weights, so the layer has fewer parameters, a smaller checkpoint and a faster
// step, and computes exactly what the layer gated with head_mask = 0 on those heads computes.
//
// Head h owns rows [h d_h, (h+1) d_h) of w_q, w_k, w_v (weights and biases) and the same
// columns of w_o's weight:
//   output = sum_h g_h head_h W_o[:, h d_h : (h+1) d_h]^T + b_o
// so removing those rows and columns is the same as g_h = 0. b_o stays: with every head pruned
// the layer outputs b_o (its gradient still flows), and the inner size num_heads * head_dim is 0.
//
// The parameters are changed in place (every handle to them, e.g. Linear::weight, sees the new
// shape); their gradients are dropped. An optimizer built before pruning holds state of the old
// shapes: build a new one to fine-tune a pruned model.
//
// Checkpoints: model_checkpoint (layers/model_checkpoint.h) records the heads each pruned layer
// kept as metadata "heads.<layer path>" = "0,2,3" (numbered as when built), and load_into prunes
// a freshly built model to the same heads before it copies the tensors, so a program that
// rebuilds its model from its config loads a pruned checkpoint unchanged.
#pragma once

#include <cstdint>
#include <vector>

#include "framework/checkpoint.h"
#include "layers/module.h"
#include "layers/multi_head_attention.h"

namespace tg {

// Removes heads (indices of the layer's current heads, 0..num_heads-1, in any order). An index
// out of range or given twice is a tg::Error, and then nothing is changed. The head_mask, when
// one is attached, loses the same entries.
void prune_heads(MultiHeadAttention& layer, const std::vector<int64_t>& heads);

// Every MultiHeadAttention in model (model itself included), with its path relative to model
// ("encoder.layers.0.self_attn"), in registration order.
std::vector<std::pair<std::string, MultiHeadAttention*>> attention_layers(Module& model);

// Metadata "heads.<path>" for every pruned attention layer of model.
void save_head_layout(const Module& model, Checkpoint& checkpoint);
// Prunes model's attention layers to the heads checkpoint records (layers it does not mention
// keep theirs). A recorded head the layer no longer has, or a path that names no attention
// layer, is a tg::Error naming it.
void apply_head_layout(const Checkpoint& checkpoint, Module& model);

}  // namespace tg
