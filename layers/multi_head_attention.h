// Multi-head attention (Vaswani et al., 2017): h attentions side by side, each over its own
// d_h dimensional slice of learned projections of the queries, keys and values (d_h = E / h
// unless options.head_dim says otherwise, as after pruning heads: layers/head_pruning.h).
//
//   Q = query W_q^T + b_q,  K = key W_k^T + b_k,  V = value W_v^T + b_v      each [B, L, h d_h]
//   head_i = softmax(Q_i K_i^T / sqrt(d_h), keep-mask) V_i                   Q_i: [B, Lq, d_h]
//   output = concat(g_1 head_1, ..., g_h head_h) W_o^T + b_o                 [B, Lq, E]
//
// g is the optional per-head gate (set_head_mask; without one every g_i = 1).
// The heads are not separate matrices: W_q's rows are the h heads' projections stacked, so
// one [h d_h, E] product serves all heads, and head i is the column block i d_h .. (i+1) d_h - 1
// of Q, K and V. tg::multi_head_attention (framework/ops/attention.h) attends every head where
// it lies, in one fused kernel, and writes head_i into the same column block of its output, so
// the concat is free: nothing is permuted or copied, and attention dropout is applied inside
// the kernel. (The textbook way, which it equals: view [B, L, h d_h] as [B, L, h, d_h],
// permute to [B, h, L, d_h], attend as a batch, permute back.)
//
// Masks are AttentionMasks that say what they mean (framework/ops/attention_mask.h):
// AttentionMask::exclude(m) takes PyTorch's nn.MultiheadAttention masks as they are (True =
// masked out), AttentionMask::keep(m) tapegrad's causal_mask (1 = attend), and valid lengths
// Int32 [B] (d2l's valid_lens) pass bare; a bare 0/1 tensor is an error. A query with every key
// masked gets zero attention weights and a zero context, so its output is w_o's bias (exactly zero
// when bias is off) and no gradient reaches the inputs through it: never NaN.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

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
  int64_t head_dim = 0;  // size of each head; 0 means embed_dim / num_heads
};

// What a MultiHeadAttention shows its observer after each forward (for analysis: entropy).
struct AttentionObservation {
  Tensor weights;       // [B, heads, Lq, Lk], detached; masked keys have weight exactly 0
  Tensor key_keep;      // float [B, Lk], 1 = a real key, 0 = padding; undefined: no padding
  bool self_attention;  // query and key were the same tensor (so key_keep marks queries too)
};

class MultiHeadAttention : public Module {
 public:
  // Without options.head_dim, embed_dim must be a multiple of num_heads. Children w_q, w_k,
  // w_v (embed_dim, kdim, vdim -> num_heads * head_dim) and w_o (back to embed_dim), Linear.
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
  int64_t head_dim() const { return head_dim_; }
  int64_t inner_dim() const { return num_heads_ * head_dim_; }  // rows of w_q, w_k, w_v
  // The heads it has, numbered as when it was built: 0..num_heads-1 until prune_heads
  // (layers/head_pruning.h) removes some. A layer with every head pruned outputs b_o.
  const std::vector<int64_t>& original_heads() const { return original_heads_; }
  bool is_pruned() const { return num_heads_ != static_cast<int64_t>(built_heads_); }

  // ---- per-head gate: head importance (layers/head_importance.h) and pruning ----
  // head_mask: float32 [num_heads], g above: 1 keeps a head, 0 removes its output, values in
  // between scale it. Differentiable: with requires_grad set,
  //   d loss / d g_i = sum over (b, q, c) of d loss / d(context_i)[b, q, c] * head_i[b, q, c],
  // the quantity head importance averages. It is attached to the layer rather than passed to
  // forward, so that any model built from these layers can be gated without threading it
  // through every forward of the model. An undefined tensor (the default) removes the gate.
  void set_head_mask(const Tensor& head_mask);
  const Tensor& head_mask() const { return head_mask_; }

  // Called after every forward while set (analysis only; nothing is recorded for it).
  std::function<void(const AttentionObservation&)> observer;

  Linear w_q, w_k, w_v, w_o;

 private:
  friend void prune_heads(MultiHeadAttention&, const std::vector<int64_t>&);

  int64_t embed_dim_, num_heads_, head_dim_, kdim_, vdim_;
  float dropout_;
  int64_t window_;
  Generator& gen_;
  Tensor head_mask_;
  std::vector<int64_t> original_heads_;
  size_t built_heads_ = 0;

  // The one keep-mask both masks make, broadcastable to [B, heads, Lq, Lk], or undefined.
  // padding_keep (when not null) receives the key padding's keep mask, broadcastable to
  // [B, 1, 1, Lk], or undefined.
  Tensor combined_keep_mask(const AttentionMask& key_padding, const AttentionMask& attn_mask,
                            int64_t batch, int64_t query_len, int64_t key_len, Device device,
                            Tensor* padding_keep_out = nullptr) const;
};

}  // namespace tg
