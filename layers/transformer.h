// Transformer encoder and decoder (Vaswani et al., 2017), layer by layer and as stacks.
//
// Each layer is a few sublayers, each wrapped in a residual connection and a LayerNorm. Where
// the norm goes is the one real choice:
//   post-norm (the paper):     x = norm(x + dropout(sublayer(x)))
//   pre-norm  (norm_first):    x = x + dropout(sublayer(norm(x)))
// Pre-norm keeps an un-normalised residual path from input to output, so gradients reach the
// first layers undiminished and deep stacks train without learning-rate warm-up (Xiong et al.,
// 2020); its output is un-normalised, so a pre-norm stack ends with one more LayerNorm.
//
// Encoder layer:  self-attention over x (padding-masked), then the feed-forward network.
// Decoder layer:  causal self-attention over the target (position t sees targets 0..t), then
//                 cross-attention from the target to the encoder's output ("memory"), then
//                 the feed-forward network.
//
// Masks are AttentionMasks (framework/ops/attention_mask.h): key_padding arguments take Int32
// valid lengths [B] bare, or AttentionMask::keep / ::exclude of a [B, L] mask (PyTorch's
// src_key_padding_mask is AttentionMask::exclude(mask)); see MultiHeadAttention::forward.
// The same dropout probability serves the attention weights, the feed-forward hidden layer and
// the residual branches.
//
// Options, as PyTorch's arguments of the same names (its default activation is ReLU, and so is
// ours; the original Transformer used ReLU, BERT and GPT GELU):
//   TransformerEncoder encoder(2, 64, 4, 256, {.dropout = 0.1f, .norm_first = true,
//                                              .activation = Activation::Gelu});
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "framework/random.h"
#include "framework/tensor.h"
#include "layers/dropout.h"
#include "layers/feed_forward.h"
#include "layers/layer_norm.h"
#include "layers/module.h"
#include "layers/multi_head_attention.h"
#include "layers/sequential.h"

namespace tg {

struct TransformerOptions {
  float dropout = 0.1f;
  bool norm_first = false;                   // pre-norm; false: post-norm, as in the paper
  Activation activation = Activation::Relu;  // of the feed-forward network
};

// Children: self_attn, ff, norm1, norm2, dropout.
class TransformerEncoderLayer : public Module {
 public:
  TransformerEncoderLayer(int64_t d_model, int64_t num_heads, int64_t ff_hidden,
                          const TransformerOptions& options = {},
                          Generator& gen = default_generator());

  // x [B, L, d_model] -> [B, L, d_model]. key_padding marks x's padded positions; attn_mask
  // ([L, L] or [B, L, L], e.g. AttentionMask::keep(causal_mask(L)) for a decoder-only model)
  // restricts further.
  Tensor forward(const Tensor& x, const AttentionMask& key_padding = {},
                 const AttentionMask& attn_mask = {}) const;
  Tensor operator()(const Tensor& x, const AttentionMask& key_padding = {},
                    const AttentionMask& attn_mask = {}) const {
    return forward(x, key_padding, attn_mask);
  }

  MultiHeadAttention self_attn;
  FeedForward ff;
  LayerNorm norm1, norm2;
  Dropout dropout;
  bool norm_first;

  // Set keep_self_attention and every forward stores its self-attention weights
  // [B, heads, L, L] in last_self_attention (detached: for heatmaps, not for training).
  bool keep_self_attention = false;
  mutable Tensor last_self_attention;  // a record of the last call, not state of the layer
};

// Children: self_attn, cross_attn, ff, norm1, norm2, norm3, dropout.
class TransformerDecoderLayer : public Module {
 public:
  TransformerDecoderLayer(int64_t d_model, int64_t num_heads, int64_t ff_hidden,
                          const TransformerOptions& options = {},
                          Generator& gen = default_generator());

  // x [B, Lt, d_model] (the target so far), memory [B, Ls, d_model] (the encoder's output).
  // The causal mask is built here; tgt_key_padding marks padded targets, memory_key_padding
  // padded source positions. Returns [B, Lt, d_model].
  Tensor forward(const Tensor& x, const Tensor& memory, const AttentionMask& tgt_key_padding = {},
                 const AttentionMask& memory_key_padding = {});
  Tensor operator()(const Tensor& x, const Tensor& memory,
                    const AttentionMask& tgt_key_padding = {},
                    const AttentionMask& memory_key_padding = {}) {
    return forward(x, memory, tgt_key_padding, memory_key_padding);
  }

  MultiHeadAttention self_attn, cross_attn;
  FeedForward ff;
  LayerNorm norm1, norm2, norm3;
  Dropout dropout;
  bool norm_first;

  // Set keep_cross_attention and every forward stores its cross-attention weights
  // [B, heads, Lt, Ls] in last_cross_attention (detached: for heatmaps, not for training).
  bool keep_cross_attention = false;
  Tensor last_cross_attention;
};

// A stack of encoder layers in a ModuleList "layers"; with norm_first, a final LayerNorm "norm".
class TransformerEncoder : public Module {
 public:
  TransformerEncoder(int64_t num_layers, int64_t d_model, int64_t num_heads, int64_t ff_hidden,
                     const TransformerOptions& options = {}, Generator& gen = default_generator());

  Tensor forward(const Tensor& x, const AttentionMask& key_padding = {},
                 const AttentionMask& attn_mask = {}) const;
  Tensor operator()(const Tensor& x, const AttentionMask& key_padding = {},
                    const AttentionMask& attn_mask = {}) const {
    return forward(x, key_padding, attn_mask);
  }

  TransformerEncoderLayer& layer(size_t i) const { return layers[i]; }
  size_t num_layers() const { return layers.size(); }
  bool has_final_norm() const { return norm_ != nullptr; }
  // Turns last_self_attention on or off in every layer.
  void keep_self_attention(bool on);

  ModuleList<TransformerEncoderLayer> layers;

 private:
  std::unique_ptr<LayerNorm> norm_;
};

// A stack of decoder layers in a ModuleList "layers"; with norm_first, a final LayerNorm "norm".
class TransformerDecoder : public Module {
 public:
  TransformerDecoder(int64_t num_layers, int64_t d_model, int64_t num_heads, int64_t ff_hidden,
                     const TransformerOptions& options = {}, Generator& gen = default_generator());

  Tensor forward(const Tensor& x, const Tensor& memory, const AttentionMask& tgt_key_padding = {},
                 const AttentionMask& memory_key_padding = {});
  Tensor operator()(const Tensor& x, const Tensor& memory,
                    const AttentionMask& tgt_key_padding = {},
                    const AttentionMask& memory_key_padding = {}) {
    return forward(x, memory, tgt_key_padding, memory_key_padding);
  }

  TransformerDecoderLayer& layer(size_t i) const { return layers[i]; }
  size_t num_layers() const { return layers.size(); }
  bool has_final_norm() const { return norm_ != nullptr; }
  // Turns last_cross_attention on or off in every layer.
  void keep_cross_attention(bool on);

  ModuleList<TransformerDecoderLayer> layers;

 private:
  std::unique_ptr<LayerNorm> norm_;
};

}  // namespace tg
