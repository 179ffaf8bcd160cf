// Head importance (Michel, Levy & Neubig 2019, "Are Sixteen Heads Really Better than One?")
// and attention entropy, for every attention head of any model built from MultiHeadAttention
// layers (encoder self-attention, decoder self- and cross-attention, each layer).
//
// Importance. Each layer's heads get a gate g (MultiHeadAttention::set_head_mask), all ones:
//   output = concat(g_1 head_1, ..., g_H head_H) W_o^T + b_o,
// and head h's importance is how much the loss moves when its gate moves, at g = 1:
//   I_h = mean over batches of | d L_batch / d g_h |
// (the paper averages |.| over examples; over batches costs one backward per batch). As in the
// paper, the scores are normalised per layer by their L2 norm over the layer's heads,
//   Î_h = I_h / sqrt(sum_h' I_h'^2),
// so that heads of different layers can be ranked on one scale (greedy global pruning).
//
// Entropy of head h for query i: H_i = -sum_j p_ij log p_ij (nats) over the keys j it attends
// (a masked key has p_ij = 0 and adds nothing); averaged over the real queries: a padded query
// position, and a query with every key masked (no distribution), are left out. A self-attention
// layer's queries are padded where its keys are. A cross-attention's queries come from another
// sequence; they are taken as padded where the self-attention that ran last under the same parent
// module (the decoder layer's self_attn) had padded keys, and as all real when there is none.
// Low entropy: a focused head (one key per query); log(Lk): uniform attention.
//
// Design: the model knows nothing of this. attention_layers (layers/head_pruning.h) finds every
// MultiHeadAttention by walking the module tree; head_importance attaches a gate and an observer
// to each, runs the caller's loss batch by batch with backward, reads the gates' gradients and
// the observed weights, then removes gate and observer and leaves the parameters' gradients
// untouched (parameters stop requiring grad while it runs: only the gates get gradients).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "framework/tensor.h"
#include "layers/module.h"

namespace tg {

struct HeadStatistics {
  std::string layer;                   // "encoder.layers.0.self_attn"
  std::vector<int64_t> heads;          // the heads, numbered as when built (original_heads)
  std::vector<double> importance;      // Î_h: normalised per layer (L2 norm over its heads = 1)
  std::vector<double> raw_importance;  // I_h = mean over batches of |dL/dg_h|
  std::vector<double> entropy;         // mean attention entropy in nats over real queries
};

// loss(i), for i in [0, num_batches), runs model on batch i and returns a scalar loss. The model
// is put in eval mode (dropout off) while it runs and restored afterwards. One entry per
// attention layer, in the order of attention_layers(model).
std::vector<HeadStatistics> head_importance(Module& model, int64_t num_batches,
                                            const std::function<Tensor(int64_t)>& loss);

}  // namespace tg
