#include "layers/transformer.h"

#include <string>

#include "framework/tapegrad.h"

namespace tg {
namespace {

std::string shape_or_undefined(const Tensor& t) {
  return t.defined() ? to_string(t.shape()) : "undefined";
}

MultiHeadAttentionOptions attention_options(float dropout) {
  MultiHeadAttentionOptions options;
  options.dropout = dropout;
  return options;
}

}  // namespace

// ---- encoder layer ----

TransformerEncoderLayer::TransformerEncoderLayer(int64_t d_model, int64_t num_heads,
                                                 int64_t ff_hidden,
                                                 const TransformerOptions& options, Generator& gen)
    : Module("TransformerEncoderLayer"),
      self_attn(d_model, num_heads, attention_options(options.dropout), gen),
      ff(d_model, ff_hidden, options.dropout, options.activation, gen),
      norm1(d_model),
      norm2(d_model),
      dropout(options.dropout, gen),
      norm_first(options.norm_first) {
  register_module("self_attn", self_attn);
  register_module("ff", ff);
  register_module("norm1", norm1);
  register_module("norm2", norm2);
  register_module("dropout", dropout);
}

Tensor TransformerEncoderLayer::forward(const Tensor& x, const AttentionMask& key_padding,
                                        const AttentionMask& attn_mask) const {
  const int64_t d_model = self_attn.embed_dim();
  check(x.defined() && x.dim() == 3 && x.size(2) == d_model, *this, ": expected x [B, L, ", d_model,
        "], got ", [&] { return shape_or_undefined(x); });
  auto attend_to_self = [&](const Tensor& h) {
    AttentionResult result = self_attn(h, h, h, key_padding, attn_mask);
    if (keep_self_attention) last_self_attention = result.weights.detach();
    return result.output;
  };
  if (norm_first) {
    const Tensor h = x + dropout(attend_to_self(norm1(x)));
    return h + dropout(ff(norm2(h)));
  }
  const Tensor h = norm1(x + dropout(attend_to_self(x)));
  return norm2(h + dropout(ff(h)));
}

// ---- decoder layer ----

TransformerDecoderLayer::TransformerDecoderLayer(int64_t d_model, int64_t num_heads,
                                                 int64_t ff_hidden,
                                                 const TransformerOptions& options, Generator& gen)
    : Module("TransformerDecoderLayer"),
      self_attn(d_model, num_heads, attention_options(options.dropout), gen),
      cross_attn(d_model, num_heads, attention_options(options.dropout), gen),
      ff(d_model, ff_hidden, options.dropout, options.activation, gen),
      norm1(d_model),
      norm2(d_model),
      norm3(d_model),
      dropout(options.dropout, gen),
      norm_first(options.norm_first) {
  register_module("self_attn", self_attn);
  register_module("cross_attn", cross_attn);
  register_module("ff", ff);
  register_module("norm1", norm1);
  register_module("norm2", norm2);
  register_module("norm3", norm3);
  register_module("dropout", dropout);
}

Tensor TransformerDecoderLayer::forward(const Tensor& x, const Tensor& memory,
                                        const AttentionMask& tgt_key_padding,
                                        const AttentionMask& memory_key_padding) {
  const int64_t d_model = self_attn.embed_dim();
  check(x.defined() && x.dim() == 3 && x.size(2) == d_model, *this, ": expected x [B, Lt, ",
        d_model, "], got ", [&] { return shape_or_undefined(x); });
  check(memory.defined() && memory.dim() == 3 && memory.size(0) == x.size(0) &&
            memory.size(2) == d_model,
        *this, ": expected memory [", x.size(0), ", Ls, ", d_model, "] (batch as in x), got ",
        [&] { return shape_or_undefined(memory); });
  const AttentionMask causal = AttentionMask::keep(causal_mask(x.size(1), x.device()));

  auto attend_to_self = [&](const Tensor& h) {
    return self_attn(h, h, h, tgt_key_padding, causal).output;
  };
  auto attend_to_memory = [&](const Tensor& h) {
    AttentionResult result = cross_attn(h, memory, memory, memory_key_padding);
    if (keep_cross_attention) last_cross_attention = result.weights.detach();
    return result.output;
  };
  if (norm_first) {
    Tensor h = x + dropout(attend_to_self(norm1(x)));
    h = h + dropout(attend_to_memory(norm2(h)));
    return h + dropout(ff(norm3(h)));
  }
  Tensor h = norm1(x + dropout(attend_to_self(x)));
  h = norm2(h + dropout(attend_to_memory(h)));
  return norm3(h + dropout(ff(h)));
}

// ---- stacks ----

TransformerEncoder::TransformerEncoder(int64_t num_layers, int64_t d_model, int64_t num_heads,
                                       int64_t ff_hidden, const TransformerOptions& options,
                                       Generator& gen)
    : Module("TransformerEncoder") {
  check(num_layers >= 1, *this, ": num_layers must be at least 1, got ", num_layers);
  register_module("layers", layers);
  for (int64_t i = 0; i < num_layers; ++i) {
    layers.emplace_back(d_model, num_heads, ff_hidden, options, gen);
  }
  if (options.norm_first) {
    norm_ = std::make_unique<LayerNorm>(d_model);
    register_module("norm", *norm_);
  }
}

Tensor TransformerEncoder::forward(const Tensor& x, const AttentionMask& key_padding,
                                   const AttentionMask& attn_mask) const {
  Tensor h = x;
  for (const TransformerEncoderLayer& layer : layers) h = layer(h, key_padding, attn_mask);
  return norm_ ? (*norm_)(h) : h;
}

TransformerDecoder::TransformerDecoder(int64_t num_layers, int64_t d_model, int64_t num_heads,
                                       int64_t ff_hidden, const TransformerOptions& options,
                                       Generator& gen)
    : Module("TransformerDecoder") {
  check(num_layers >= 1, *this, ": num_layers must be at least 1, got ", num_layers);
  register_module("layers", layers);
  for (int64_t i = 0; i < num_layers; ++i) {
    layers.emplace_back(d_model, num_heads, ff_hidden, options, gen);
  }
  if (options.norm_first) {
    norm_ = std::make_unique<LayerNorm>(d_model);
    register_module("norm", *norm_);
  }
}

Tensor TransformerDecoder::forward(const Tensor& x, const Tensor& memory,
                                   const AttentionMask& tgt_key_padding,
                                   const AttentionMask& memory_key_padding) {
  Tensor h = x;
  for (TransformerDecoderLayer& layer : layers)
    h = layer(h, memory, tgt_key_padding, memory_key_padding);
  return norm_ ? (*norm_)(h) : h;
}

void TransformerEncoder::keep_self_attention(bool on) {
  for (TransformerEncoderLayer& layer : layers) layer.keep_self_attention = on;
}

void TransformerDecoder::keep_cross_attention(bool on) {
  for (TransformerDecoderLayer& layer : layers) layer.keep_cross_attention = on;
}

}  // namespace tg
