// Multi-head attention (Vaswani et al., 2017): h attentions side by side, each over its own
// d_h = E / h dimensional slice of learned projections of the queries, keys and values.
//
//   Q = query W_q^T + b_q,  K = key W_k^T + b_k,  V = value W_v^T + b_v      each [B, L, E]
//   head_i = softmax(Q_i K_i^T / sqrt(d_h), keep-mask) V_i                   Q_i: [B, Lq, d_h]
//   output = concat(head_1, ..., head_h) W_o^T + b_o                          [B, Lq, E]
//
// The heads are not separate matrices: W_q's rows are the h heads' projections stacked, so
// one [E, E] product serves all heads. Splitting is a view [B, L, E] -> [B, L, h, d_h] and one
// permute (a copy) to [B, h, L, d_h]; every head then runs in the same batched gemm. Merging is
// one permute back and a view. The key is multiplied with gemm's transpose flag, never copied.
//
// Masks are AttentionMasks that say what they mean (framework/ops/attention_mask.h):
// AttentionMask::exclude(m) takes PyTorch's nn.MultiheadAttention masks as they are (True =
// masked out), AttentionMask::keep(m) tapegrad's causal_mask (1 = attend), and valid lengths
// Int32 [B] (d2l's valid_lens) pass bare; a bare 0/1 tensor is an error. A query with every key
// masked gets zero attention weights and a zero context, so its output is w_o's bias (exactly zero
// when bias is off) and no gradient reaches the inputs through it: never NaN.
#pragma once

#include <cstdint>

#include "framework/random.h"
#include "framework/tensor.h"
#include "layers/attention.h"
#include "layers/linear.h"
#include "layers/module.h"

namespace tg {

struct MultiHeadAttentionOptions {
  int64_t kdim = 0;      // size of the key features; 0 means embed_dim
  int64_t vdim = 0;      // size of the value features; 0 means embed_dim
  bool bias = true;      // biases on all four projections
  float dropout = 0.0f;  // on the attention weights, while training
  // Local attention (local_attention in framework/ops/attention.h): each query attends only to
  // the keys within +-window positions, in time and memory linear in L; self-attention only
  // (Lq == Lk), and the returned weights are the band [B, heads, L, 2*window+1]. 0: full.
  int64_t window = 0;
};

class MultiHeadAttention : public Module {
 public:
  // embed_dim must be a multiple of num_heads. Children w_q, w_k, w_v, w_o (Linear).
  MultiHeadAttention(int64_t embed_dim, int64_t num_heads,
                     const MultiHeadAttentionOptions& options = {},
                     Generator& gen = default_generator());

  // query [B, Lq, E], key [B, Lk, kdim], value [B, Lk, vdim].
  // key_padding (optional): valid lengths Int32 [B] (keys at positions >= length are padding),
  //   or AttentionMask::keep / ::exclude of a [B, Lk] mask (PyTorch's key_padding_mask is
  //   AttentionMask::exclude(key_padding_mask)).
  // attn_mask (optional): AttentionMask::keep / ::exclude of [Lq, Lk] or [B, Lq, Lk], e.g.
  //   AttentionMask::keep(causal_mask(L)).
  // Both masks together: a key is attended only where neither masks it.
  // Returns output [B, Lq, E] and weights [B, heads, Lq, Lk] (before dropout), for heatmaps.
  AttentionResult forward(const Tensor& query, const Tensor& key, const Tensor& value,
                          const AttentionMask& key_padding = {},
                          const AttentionMask& attn_mask = {}) const;
  AttentionResult operator()(const Tensor& query, const Tensor& key, const Tensor& value,
                             const AttentionMask& key_padding = {},
                             const AttentionMask& attn_mask = {}) const {
    return forward(query, key, value, key_padding, attn_mask);
  }

  int64_t embed_dim() const { return embed_dim_; }
  int64_t num_heads() const { return num_heads_; }
  int64_t head_dim() const { return embed_dim_ / num_heads_; }

  Linear w_q, w_k, w_v, w_o;

 private:
  int64_t embed_dim_, num_heads_, kdim_, vdim_;
  float dropout_;
  int64_t window_;
  Generator& gen_;

  // The one keep-mask both masks make, broadcastable to [B, heads, Lq, Lk], or undefined.
  Tensor combined_keep_mask(const AttentionMask& key_padding, const AttentionMask& attn_mask,
                            int64_t batch, int64_t query_len, int64_t key_len, Device device) const;
};

}  // namespace tg
