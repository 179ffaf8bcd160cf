// Attention: a query looks at every key, turns the match scores into weights that sum to 1,
// and returns the weighted sum of the values.
//
//   weights = softmax(score(q, k))        one row of weights per query, over the keys
//   output  = weights v
//
// The functions live here: the scaled dot product of Vaswani et al. (2017),
//   score(q, k) = q . k / sqrt(d),
// which is one batched matrix product, and attend(), which turns any scores into weights and
// an output. The additive score of Bahdanau et al. (2015), w_v^T tanh(W_q q + W_k k), has
// weights, so it is a layer: AdditiveAttention in layers/attention.h.
//
// MASKS. Every mask argument is an AttentionMask (framework/ops/attention_mask.h), which says
// what its tensor means: AttentionMask::keep(m) (nonzero = attend), AttentionMask::exclude(m)
// (nonzero = masked out, PyTorch's nn.MultiheadAttention convention), or Int32 [B] valid
// lengths (d2l.ai's valid_lens), the one bare tensor accepted. key_padding_mask and causal_mask
// below return keep-mask tensors: pass them as AttentionMask::keep(...). A mask broadcasts
// (NumPy rules) to the scores' shape [..., Lq, Lk] and may not add dimensions to it. Masked
// keys get exactly zero weight and their values exactly zero gradient. A query row with every
// key masked gets all-zero weights, so a zero output and zero gradients, never NaN (softmax's
// own convention; see framework/ops/nn.h). To add a bias to the scores (relative positions,
// ALiBi), compose the two halves: attend(scaled_dot_product_scores(q, k) + bias, v, mask, ...).
#pragma once

#include <cstdint>
#include <string>

#include "framework/ops/attention_mask.h"
#include "framework/random.h"
#include "framework/tensor.h"

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

// Int32 [len, len], 1 where |i - j| <= window: query i may attend to keys i - window .. i +
// window only. local_attention's band written as a full mask: for short sequences (a word's
// letters) the full-attention kernel with this mask is the cheaper way to the same result.
Tensor window_mask(int64_t len, int64_t window, Device device = Device::CPU);

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

// ---- multi-head attention, the heads side by side ----

// Scaled dot-product attention of `heads` heads at once, on the projections as they come out of
// their Linear layers: q [B, Lq, heads * d], k [B, Lk, heads * d], v [B, Lk, heads * dv]. Head
// h is the column block h d .. (h + 1) d - 1 of q and k (h dv .. of v). Returns output
// [B, Lq, heads * dv], each head's output in its own column block (what the output projection
// takes), and weights [B, heads, Lq, Lk]. The mask broadcasts to [B, heads, Lq, Lk]. Equal to
//   split(x) = x.reshape({B, L, heads, width}).permute({0, 2, 1, 3})
//   r = scaled_dot_product_attention(split(q), split(k), split(v), mask, ...)
//   output = r.output.permute({0, 2, 1, 3}).reshape({B, Lq, heads * dv})
// (the tests check it, values and gradients, both outputs), but computed by one fused kernel
// (backend.h, "multi-head attention"): nothing permuted, the mask read where it broadcasts.
// Dropout while training draws the mask the composition's tg::dropout draws on the weights
// (the same numbers from the same generator) and the kernel applies it between P and V. With
// no queries or no keys it runs the composition.
// The textbook head split and its inverse: [B, L, heads * w] viewed as [B, L, heads, w] and
// permuted (a copy) to [B, heads, L, w], so heads attend as a batch dim; merge_heads undoes it.
// For the attention functions above that take heads as a batch dim (local_attention).
Tensor split_heads(const Tensor& x, int64_t heads);
Tensor merge_heads(const Tensor& x);  // [B, heads, L, w] -> [B, L, heads * w]

AttentionResult multi_head_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                     int64_t heads, const AttentionMask& mask = {},
                                     float dropout = 0.0f, bool training = false,
                                     Generator& gen = default_generator());

// ---- local (windowed) attention: each query attends to the keys within +-window positions ----

// Self-attention over a band: query i attends to keys j with |i - j| <= window (and j <= i when
// causal: keys i - window .. i), combined with `mask` (padding; any AttentionMask, broadcastable
// to [..., L, L], of which only the band is read). q [..., L, d], k [..., L, d], v [..., L, dv]
// with the same leading dims. Equal to scaled_dot_product_attention with the band as a keep-mask,
// but the scores, weights and their gradients are bands [..., L, 2w+1] (framework/ops/banded.h):
// time and memory grow with L w, not L^2. Returns output [..., L, dv] and the weights as that
// band: weights[..., i, t] is the weight of key i - window + t (0 off the sequence or masked).
// Cross-attention (Lq != Lk) has no diagonal to centre a band on: a tg::Error.
AttentionResult local_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t window,
                                const AttentionMask& mask = {}, bool causal = false,
                                float dropout = 0.0f, bool training = false,
                                Generator& gen = default_generator());

// Why a keep-mask cannot be applied to scores of this shape, or "" if it can: it must live on
// the scores' device and broadcast to them without adding dims. For layers that report the
// problem under their own name.
std::string attention_mask_problem(const Tensor& mask, const Tensor& scores);
std::string attention_mask_problem(const Tensor& mask, const Shape& scores_shape,
                                   Device scores_device);

}  // namespace tg
