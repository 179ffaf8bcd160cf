// AttentionMask: which keys each query may attend to, with its meaning stated.
//
// A bare 0/1 tensor cannot say what it means, and the conventions disagree: PyTorch's
// nn.MultiheadAttention and nn.Transformer* read True as "masked out", its
// F.scaled_dot_product_attention reads True as "attend", and tapegrad's causal_mask and
// key_padding_mask give 1 = attend. A mask of one convention read in the other runs silently
// inverted. So no attention entry point takes a bare mask tensor; it takes an AttentionMask:
//
//   AttentionMask::keep(m)      nonzero = this query may attend to this key (tapegrad's
//                               causal_mask / key_padding_mask; F.scaled_dot_product_attention's
//                               bool mask)
//   AttentionMask::exclude(m)   nonzero = masked out (PyTorch's bool key_padding_mask and
//                               attn_mask of nn.MultiheadAttention / nn.Transformer*; their float
//                               masks of 0 / -inf too, since -inf is nonzero)
//   valid lengths               Int32 [B], d2l.ai's valid_lens: the keys at positions >= lens[b]
//                               are padding. The one tensor that converts implicitly, since a
//                               1-D int32 tensor of lengths cannot be mistaken for a mask.
//
// Any other bare tensor where an AttentionMask is expected is a tg::Error that says to choose
// keep or exclude. Masks are Int32 (what comparisons return) or Float32, broadcastable to the
// scores [..., Lq, Lk]; nothing is copied to the host to read them. To add a bias to the scores
// (ALiBi, relative positions) compose attend(scores + bias, v, mask) instead.
#pragma once

#include <cstdint>
#include <utility>

#include "framework/tensor.h"

namespace tg {

class AttentionMask {
 public:
  enum class Kind { None, Keep, Exclude, ValidLengths };

  AttentionMask() = default;  // no mask: every key is attended
  // Valid lengths, Int32 [B] (an undefined tensor means no mask). Implicit on purpose: see above.
  AttentionMask(const Tensor& valid_lens);  // NOLINT(google-explicit-constructor)

  static AttentionMask keep(const Tensor& mask);
  static AttentionMask exclude(const Tensor& mask);
  static AttentionMask valid_lengths(const Tensor& valid_lens);

  Kind kind() const { return kind_; }
  bool defined() const { return kind_ != Kind::None; }
  const Tensor& tensor() const { return tensor_; }  // as given
  const char* describe() const;  // "keep-mask", "exclude-mask", "valid lengths", "no mask"

  // The mask as 1 (or nonzero) = attend, for scores of rank `rank` whose last dim is key_len:
  // keep as given; exclude as (mask == 0); valid lengths as [B, 1, ..., 1, key_len] with
  // keep[b, ..., j] = j < lens[b]. Undefined when there is no mask.
  Tensor keep_mask(int64_t rank, int64_t key_len) const;

 private:
  AttentionMask(Kind kind, Tensor tensor) : kind_(kind), tensor_(std::move(tensor)) {}
  Kind kind_ = Kind::None;
  Tensor tensor_;
};

}  // namespace tg
