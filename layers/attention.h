// Attention: a query looks at every key, turns the match scores into weights that sum to 1,
// and returns the weighted sum of the values.
//
//   weights = softmax(score(q, k))        one row of weights per query, over the keys
//   output  = weights v
//
// Two scores live here: the scaled dot product of Vaswani et al. (2017),
//   score(q, k) = q . k / sqrt(d),
// which is one batched matrix product, and the additive score of Bahdanau et al. (2015),
//   score(q, k) = w_v^T tanh(W_q q + W_k k),
// a small one-hidden-layer network that also works when queries and keys differ in size.
//
// MASKS. Every mask argument is an AttentionMask (framework/ops/attention_mask.h), which says
// what its tensor means: AttentionMask::keep(m) (nonzero = attend), AttentionMask::exclude(m)
// (nonzero = masked out, PyTorch's nn.MultiheadAttention convention), or Int32 [B] valid
// lengths (d2l.ai's valid_lens), the one bare tensor accepted. key_padding_mask and causal_mask
// below return keep-mask tensors: pass them as AttentionMask::keep(...). A mask broadcasts
// (NumPy rules) to the scores' shape [..., Lq, Lk] and may not add dimensions to it. Masked
// keys get exactly zero weight and their values exactly zero gradient. A query row with every
// key masked gets all-zero weights, so a zero output and zero gradients, never NaN (softmax's
// own convention; see framework/ops/nn.h).
#pragma once

#include <cstdint>

#include "framework/ops/attention_mask.h"
#include "framework/random.h"
#include "framework/tensor.h"
#include "layers/linear.h"
#include "layers/module.h"

namespace tg {

struct AttentionResult {
  Tensor output;   // [..., Lq, dv]
  Tensor weights;  // [..., Lq, Lk], before dropout: each row sums to 1 (or is all zero)
};

// ---- keep-masks (1 = attend): pass them as AttentionMask::keep(...) ----

// Keys at positions >= valid_lens[b] are padding (d2l.ai's valid_lens). valid_lens: Int32 [B]
// with values in [0, key_len]. Returns Int32 [B, 1, 1, key_len], which broadcasts to multi-head
// scores [B, heads, Lq, Lk]; for single-head scores [B, Lq, Lk] use .squeeze(1) -> [B, 1, Lk].
Tensor key_padding_mask(const Tensor& valid_lens, int64_t key_len);

// Int32 [len, len], 1 on and below the diagonal: query t may attend to keys 0..t only.
Tensor causal_mask(int64_t len, Device device = Device::CPU);

// ---- the two halves of attention, for composing your own ----

// q [..., Lq, d], k [..., Lk, d] -> q k^T / sqrt(d), [..., Lq, Lk]. One gemm with trans_b: k is
// never transposed in memory. Leading dims broadcast.
Tensor scaled_dot_product_scores(const Tensor& q, const Tensor& k);

// weights = softmax(scores, last dim, mask); output = dropout(weights) v.
// scores [..., Lq, Lk], v [..., Lk, dv], mask as described at the top (or undefined).
// Dropout on the weights (p, only when training) drops whole query-key links.
AttentionResult attend(const Tensor& scores, const Tensor& v, const AttentionMask& mask = {},
                       float dropout = 0.0f, bool training = false,
                       Generator& gen = default_generator());

// ---- scaled dot-product attention ----

// softmax(q k^T / sqrt(d)) v, with q [..., Lq, d], k [..., Lk, d], v [..., Lk, dv].
AttentionResult scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                             const AttentionMask& mask = {}, float dropout = 0.0f,
                                             bool training = false,
                                             Generator& gen = default_generator());

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

  Linear w_q, w_k, w_v;

 private:
  float dropout_;
  Generator& gen_;
};

}  // namespace tg
