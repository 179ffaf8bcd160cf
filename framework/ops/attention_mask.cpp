#include "framework/ops/attention_mask.h"

#include <string>

#include "framework/ops/elementwise.h"

namespace tg {
namespace {

void check_mask_tensor(const Tensor& mask, const char* factory) {
  check(mask.defined(), "AttentionMask::", factory, ": the mask is undefined (pass {} for none)");
  check(mask.dtype() == DType::Int32 || mask.dtype() == DType::Float32, "AttentionMask::", factory,
        ": expected an int32 or float32 mask, got ", to_string(mask.dtype()), " ", mask.shape());
}

void check_valid_lengths(const Tensor& lens, const char* where) {
  check(lens.dtype() == DType::Int32 && lens.dim() == 1, where, ": got a bare ",
        to_string(lens.dtype()), " ", lens.shape(),
        " tensor, which is ambiguous: PyTorch's nn.MultiheadAttention reads True as masked out, "
        "tapegrad's causal_mask and key_padding_mask give 1 = attend. Say which: "
        "AttentionMask::keep(mask) (nonzero = attend) or AttentionMask::exclude(mask) (nonzero = "
        "masked out, PyTorch's key_padding_mask / attn_mask). Only int32 [B] valid lengths "
        "(d2l's valid_lens) are taken bare");
}

}  // namespace

AttentionMask::AttentionMask(const Tensor& valid_lens) {
  if (!valid_lens.defined()) return;
  check_valid_lengths(valid_lens, "attention mask");
  kind_ = Kind::ValidLengths;
  tensor_ = valid_lens;
}

AttentionMask AttentionMask::keep(const Tensor& mask) {
  check_mask_tensor(mask, "keep");
  return {Kind::Keep, mask};
}

AttentionMask AttentionMask::exclude(const Tensor& mask) {
  check_mask_tensor(mask, "exclude");
  return {Kind::Exclude, mask};
}

AttentionMask AttentionMask::valid_lengths(const Tensor& valid_lens) {
  check(valid_lens.defined(), "AttentionMask::valid_lengths: valid_lens is undefined");
  check(valid_lens.dtype() == DType::Int32 && valid_lens.dim() == 1,
        "AttentionMask::valid_lengths: expected int32 [B], got ", to_string(valid_lens.dtype()),
        " ", valid_lens.shape());
  return {Kind::ValidLengths, valid_lens};
}

const char* AttentionMask::describe() const {
  switch (kind_) {
    case Kind::Keep:
      return "keep-mask";
    case Kind::Exclude:
      return "exclude-mask";
    case Kind::ValidLengths:
      return "valid lengths";
    case Kind::None:
      break;
  }
  return "no mask";
}

Tensor AttentionMask::keep_mask(int64_t rank, int64_t key_len) const {
  switch (kind_) {
    case Kind::Keep:
      return tensor_;
    case Kind::Exclude:  // keep = (mask == 0)
      return eq(tensor_, full({}, 0.0f, tensor_.dtype(), tensor_.device()));
    case Kind::ValidLengths: {  // keep[b, 1, ..., 1, j] = j < lens[b]
      check(rank >= 2, "attention mask: valid lengths need scores [B, ..., Lq, Lk], got rank ",
            rank);
      Shape positions_shape(static_cast<size_t>(rank), 1), lens_shape(static_cast<size_t>(rank), 1);
      positions_shape.back() = key_len;
      lens_shape.front() = tensor_.size(0);
      const Tensor positions = arange(key_len, DType::Int32, tensor_.device());
      return lt(positions.reshape(positions_shape), tensor_.reshape(lens_shape));
    }
    case Kind::None:
      break;
  }
  return {};
}

}  // namespace tg
