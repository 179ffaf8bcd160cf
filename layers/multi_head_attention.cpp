#include "layers/multi_head_attention.h"

#include <string>
#include <vector>

#include "framework/tapegrad.h"

namespace tg {
namespace {

int64_t or_embed_dim(int64_t size, int64_t embed_dim) { return size > 0 ? size : embed_dim; }

// Checked before the projections are built (a layer has no path yet while it is constructed).
int64_t head_dim_of(int64_t embed_dim, int64_t num_heads, const MultiHeadAttentionOptions& o) {
  check(num_heads > 0, "MultiHeadAttention: num_heads must be positive, got ", num_heads);
  check(o.head_dim >= 0,
        "MultiHeadAttention: head_dim must be positive (or 0: embed_dim / "
        "num_heads), got ",
        o.head_dim);
  check(o.head_dim > 0 || embed_dim % num_heads == 0, "MultiHeadAttention: embed_dim ", embed_dim,
        " is not divisible by num_heads ", num_heads);
  return o.head_dim > 0 ? o.head_dim : embed_dim / num_heads;
}

std::string describe_tensor(const Tensor& t) {
  return t.defined() ? std::string(to_string(t.dtype())) + " " + to_string(t.shape())
                     : "an undefined tensor";
}

// Int32 0/1 from any keep-mask (nonzero = keep), so two masks combine by multiplication.
Tensor as_zero_one(const Tensor& mask) {
  return ne(mask, full({}, 0.0f, mask.dtype(), mask.device()));
}

}  // namespace

MultiHeadAttention::MultiHeadAttention(int64_t embed_dim, int64_t num_heads,
                                       const MultiHeadAttentionOptions& options, Generator& gen)
    : Module("MultiHeadAttention"),
      w_q(embed_dim, num_heads * head_dim_of(embed_dim, num_heads, options), options.bias, gen),
      w_k(or_embed_dim(options.kdim, embed_dim),
          num_heads * head_dim_of(embed_dim, num_heads, options), options.bias, gen),
      w_v(or_embed_dim(options.vdim, embed_dim),
          num_heads * head_dim_of(embed_dim, num_heads, options), options.bias, gen),
      w_o(num_heads * head_dim_of(embed_dim, num_heads, options), embed_dim, options.bias, gen),
      embed_dim_(embed_dim),
      num_heads_(num_heads),
      head_dim_(head_dim_of(embed_dim, num_heads, options)),
      kdim_(or_embed_dim(options.kdim, embed_dim)),
      vdim_(or_embed_dim(options.vdim, embed_dim)),
      dropout_(options.dropout),
      window_(options.window),
      gen_(gen) {
  check(dropout_ >= 0.0f && dropout_ < 1.0f, *this, ": dropout must be in [0, 1), got ", dropout_);
  check(window_ >= 0, *this, ": window must be >= 0 (0: full attention), got ", window_);
  for (int64_t h = 0; h < num_heads; ++h) original_heads_.push_back(h);
  built_heads_ = original_heads_.size();
  register_module("w_q", w_q);
  register_module("w_k", w_k);
  register_module("w_v", w_v);
  register_module("w_o", w_o);
}

Tensor MultiHeadAttention::combined_keep_mask(const AttentionMask& key_padding,
                                              const AttentionMask& attn_mask, int64_t batch,
                                              int64_t query_len, int64_t key_len, Device device,
                                              Tensor* padding_keep_out) const {
  Tensor padding_keep;  // broadcastable to [B, 1, 1, Lk]
  if (key_padding.kind() == AttentionMask::Kind::ValidLengths) {
    const Tensor& lens = key_padding.tensor();
    check(lens.size(0) == batch, *this, ": key_padding as valid lengths must be int32 [B] = [",
          batch, "], got ", [&] { return describe_tensor(lens); });
    // key_padding_mask checks the lengths where they live; one on the host fails at once, and
    // then the message gets this layer's path too.
    try {
      padding_keep = key_padding_mask(lens, key_len);
    } catch (const Error& e) {
      fail(*this, ": ", e.what());
    }
  } else if (key_padding.defined()) {
    check(key_padding.tensor().shape() == Shape{batch, key_len}, *this, ": ",
          "key_padding must be valid lengths int32 [B] or a mask [B, Lk] = [", batch, ",", key_len,
          "], got the ", key_padding.describe(), " ", describe_tensor(key_padding.tensor()));
    padding_keep = key_padding.keep_mask(2, key_len).reshape({batch, 1, 1, key_len});
  }

  Tensor pair_keep;  // broadcastable to [B, 1, Lq, Lk]
  if (attn_mask.defined()) {
    const Tensor& mask = attn_mask.tensor();
    check(attn_mask.kind() != AttentionMask::Kind::ValidLengths, *this, ": ",
          "attn_mask takes AttentionMask::keep or AttentionMask::exclude of [Lq, Lk] or [B, Lq, "
          "Lk]; valid lengths belong in key_padding, got int32 ",
          to_string(mask.shape()));
    if (mask.shape() == Shape{query_len, key_len}) {
      pair_keep = attn_mask.keep_mask(2, key_len);
    } else {
      check(mask.shape() == Shape{batch, query_len, key_len}, *this,
            ": attn_mask must be a mask [Lq, Lk] = [", query_len, ",", key_len,
            "] or [B, Lq, Lk] = [", batch, ",", query_len, ",", key_len, "], got the ",
            attn_mask.describe(), " ", [&] { return describe_tensor(mask); });
      pair_keep = attn_mask.keep_mask(3, key_len).reshape({batch, 1, query_len, key_len});
    }
  }

  for (const Tensor* mask : {&padding_keep, &pair_keep}) {
    check(!mask->defined() || mask->device() == device, *this,
          ": masks must be on the query's device (", to_string(device), "), got one on ",
          mask->defined() ? to_string(mask->device()) : "");
  }
  if (padding_keep_out != nullptr) *padding_keep_out = padding_keep;
  if (padding_keep.defined() && pair_keep.defined())
    return as_zero_one(padding_keep) * as_zero_one(pair_keep);  // [B, 1, Lq, Lk]
  return padding_keep.defined() ? padding_keep : pair_keep;
}

AttentionResult MultiHeadAttention::forward(const Tensor& query, const Tensor& key,
                                            const Tensor& value, const AttentionMask& key_padding,
                                            const AttentionMask& attn_mask) const {
  check(query.defined() && query.dim() == 3 && query.size(2) == embed_dim_, *this,
        ": expected query [B, Lq, ", embed_dim_, "], got ", [&] { return describe_tensor(query); });
  const int64_t batch = query.size(0), query_len = query.size(1);
  check(key.defined() && key.dim() == 3 && key.size(0) == batch && key.size(2) == kdim_, *this,
        ": expected key [", batch, ", Lk, ", kdim_, "], got ",
        [&] { return describe_tensor(key); });
  const int64_t key_len = key.size(1);
  check(value.defined() && value.dim() == 3 && value.size(0) == batch && value.size(1) == key_len &&
            value.size(2) == vdim_,
        *this, ": expected value [", batch, ",", key_len, ",", vdim_, "] (Lk as in key), got ",
        [&] { return describe_tensor(value); });
  Tensor padding_keep;
  const Tensor keep = combined_keep_mask(key_padding, attn_mask, batch, query_len, key_len,
                                         query.device(), observer ? &padding_keep : nullptr);
  check(!head_mask_.defined() || head_mask_.device() == query.device(), *this,
        ": head_mask must be on the query's device (", to_string(query.device()), "), got one on ",
        [&] { return to_string(head_mask_.device()); });

  if (num_heads_ == 0) {  // every head pruned: concat() of nothing is empty, so only b_o stays
    const Tensor nothing = zeros({batch, query_len, embed_dim_}, DType::Float32, query.device());
    return {w_o.bias.defined() ? nothing + w_o.bias : nothing,
            zeros({batch, 0, query_len, key_len}, DType::Float32, query.device())};
  }
  const int64_t heads = num_heads_;
  const AttentionMask mask = keep.defined() ? AttentionMask::keep(keep) : AttentionMask();
  check(window_ == 0 || query_len == key_len, *this, ": local attention (window ", window_,
        ") is self-attention: query and key need the same length, got Lq ", query_len, " and Lk ",
        key_len);
  // Each head's output in its own column block: [B, Lq, heads * d_h], what w_o takes.
  AttentionResult heads_out;
  if (window_ == 0) {
    heads_out = multi_head_attention(w_q(query), w_k(key), w_v(value), heads, mask, dropout_,
                                     is_training(), gen_);
  } else {
    // local_attention takes the heads as a batch dim: [B, L, h d_h] -> [B, h, L, d_h] and back.
    heads_out = local_attention(split_heads(w_q(query), heads), split_heads(w_k(key), heads),
                                split_heads(w_v(value), heads), window_, mask, /*causal=*/false,
                                dropout_, is_training(), gen_);
    heads_out.output = merge_heads(heads_out.output);
  }
  // The gate g_i scales head i's output: its column block of [B, Lq, h d_h], seen as
  // [B, Lq, h, d_h] and broadcast over batch, queries and d_h.
  Tensor context = heads_out.output;
  if (head_mask_.defined())
    context = (context.reshape({batch, query_len, heads, head_dim_}) *
               head_mask_.reshape({1, 1, heads, 1}))
                  .reshape({batch, query_len, inner_dim()});
  if (observer) {
    check(window_ == 0, *this, ": an observer reads [B, heads, Lq, Lk] attention weights; a ",
          "layer with a window (", window_, ") has only their band");
    const Tensor key_keep = padding_keep.defined()
                                ? padding_keep.reshape({batch, key_len}).to(DType::Float32)
                                : Tensor();
    observer({heads_out.weights.detach(), key_keep, query.id() == key.id()});
  }
  return {w_o(context), heads_out.weights};
}

void MultiHeadAttention::set_head_mask(const Tensor& head_mask) {
  check(!head_mask.defined() ||
            (head_mask.dtype() == DType::Float32 && head_mask.shape() == Shape{num_heads_}),
        *this, ": head_mask must be float32 [num_heads] = [", num_heads_, "], got ",
        [&] { return describe_tensor(head_mask); });
  head_mask_ = head_mask;
}

}  // namespace tg
