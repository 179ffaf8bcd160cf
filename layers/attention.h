// AdditiveAttention: the additive score of Bahdanau et al. (2015) as a layer with weights,
//   score(q, k) = w_v^T tanh(W_q q + W_k k),
// a small one-hidden-layer network that also works when queries and keys differ in size. The
// attention functions it builds on (attend, scaled_dot_product_attention, the masks) and what a
// mask means are in framework/ops/attention.h;
// masks are AttentionMask values (framework/ops/attention_mask.h), which say what they mean.
#pragma once

#include <cstdint>

#include "framework/ops/attention.h"
#include "framework/ops/attention_mask.h"
#include "framework/random.h"
#include "framework/tensor.h"
#include "layers/linear.h"
#include "layers/module.h"

namespace tg {

// ---- additive (Bahdanau) attention ----
//
// score(q_i, k_j) = w_v^T tanh(W_q q_i + W_k k_j), for every pair (i, j) at once: the projected
// queries [..., Lq, 1, h] and keys [..., 1, Lk, h] broadcast to [..., Lq, Lk, h], so the
// memory is Lq * Lk * hidden floats: fine for the short sequences it is used on.
// Children: w_q (query_dim -> hidden), w_k (key_dim -> hidden), w_v (hidden -> 1), no biases.
class AdditiveAttention : public Module {
 public:
  AdditiveAttention(int64_t query_dim, int64_t key_dim, int64_t hidden, float dropout = 0.0f,
                    Generator& gen = default_generator());

  // queries [..., Lq, query_dim], keys [..., Lk, key_dim], values [..., Lk, dv], mask
  // broadcastable to [..., Lq, Lk]. Dropout on the weights only when training.
  AttentionResult forward(const Tensor& queries, const Tensor& keys, const Tensor& values,
                          const AttentionMask& mask = {}) const;
  AttentionResult operator()(const Tensor& queries, const Tensor& keys, const Tensor& values,
                             const AttentionMask& mask = {}) const {
    return forward(queries, keys, values, mask);
  }

  // forward in two halves. W_k k does not depend on the query, so a decoder that attends to
  // the same keys at every step projects them once (project_keys, [..., Lk, hidden]) and
  // passes the result to each step's forward_projected: the same values and gradients as
  // forward, without a [Lk, key_dim] x [key_dim, hidden] product (and its backward) per step.
  Tensor project_keys(const Tensor& keys) const;
  AttentionResult forward_projected(const Tensor& queries, const Tensor& projected_keys,
                                    const Tensor& values, const AttentionMask& mask = {}) const;

  Linear w_q, w_k, w_v;

 private:
  float dropout_;
  Generator& gen_;
};

}  // namespace tg
