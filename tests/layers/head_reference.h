// References for the head gate and head pruning tests: each head's share of a
// MultiHeadAttention's output, computed from its weights head by head.
#pragma once

#include <cmath>
#include <vector>

#include "framework/tapegrad.h"
#include "layers/multi_head_attention.h"

namespace tg::testing {

inline Tensor from(const std::vector<float>& values) {
  return from_vector(values, {static_cast<int64_t>(values.size())});
}

// Head h's share of the output: head_h W_o[:, h d_h : (h+1) d_h]^T, [B, Lq, E], computed from
// the layer's weights alone (the heads one by one, no gate, no bias).
inline Tensor head_share(const MultiHeadAttention& mha, const Tensor& x, int64_t h) {
  const int64_t dh = mha.head_dim();
  auto rows = [&](const Linear& l) { return narrow(l.weight, 0, h * dh, dh); };
  auto project = [&](const Linear& l) {
    return matmul(x, transpose(rows(l), 0, 1)) + narrow(l.bias, 0, h * dh, dh);
  };
  const Tensor q = project(mha.w_q), k = project(mha.w_k), v = project(mha.w_v);
  const Tensor w = softmax(matmul(q, transpose(k, 1, 2)) / std::sqrt(static_cast<float>(dh)), -1);
  return matmul(matmul(w, v), transpose(narrow(mha.w_o.weight, 1, h * dh, dh), 0, 1));
}

// output = sum_h g_h share_h + b_o
inline Tensor gated_reference(const MultiHeadAttention& mha, const Tensor& x,
                              const std::vector<float>& g) {
  Tensor out = mha.w_o.bias;
  for (int64_t h = 0; h < mha.num_heads(); ++h) out = out + head_share(mha, x, h) * g[h];
  return out;
}

// A MultiHeadAttention(6, 3) under a parent, so that messages carry its path 'attn'.
struct AttentionHolder : Module {
  MultiHeadAttention attn;
  explicit AttentionHolder(Generator& gen) : Module("Holder"), attn(6, 3, {}, gen) {
    register_module("attn", attn);
  }
};

}  // namespace tg::testing
