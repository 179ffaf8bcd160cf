// Telling a transformer where each token sits: attention itself is blind to order.
#pragma once

#include "framework/random.h"
#include "layers/dropout.h"
#include "layers/module.h"

namespace tg {

// Fixed sinusoids (Vaswani et al., 2017): for position pos and feature j = 2i or 2i + 1,
//   PE[pos, 2i]     = sin(pos / 10000^(2i / dim))
//   PE[pos, 2i + 1] = cos(pos / 10000^(2i / dim))
// Wavelengths run geometrically from 2 pi to 10000 * 2 pi, and PE[pos + k] is a linear function
// of PE[pos], so relative offsets are easy to attend to. forward(x) = dropout(x + PE[:T]).
struct PositionalEncoding : Module {
  PositionalEncoding(int64_t dim, int64_t max_len = 5000, float dropout = 0.0f,
                     Generator& gen = default_generator());
  Tensor forward(const Tensor& x) const;  // x [B, T, dim], T <= max_len
  Tensor operator()(const Tensor& x) const { return forward(x); }

  int64_t dim, max_len;
  Tensor table;  // [max_len, dim], computed once; the computed buffer "pe" (moved, not saved)
  Dropout drop;
};

// Learned positions (as in BERT and GPT-2): a trained row per position,
//   forward(x) = x + weight[:T],
// with weight starting N(0, 0.02^2) as in those models, a small nudge next to the token
// embeddings that training then shapes. Unlike the sinusoids it cannot go past max_len.
struct LearnedPositionalEmbedding : Module {
  LearnedPositionalEmbedding(int64_t max_len, int64_t dim, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) const;  // x [B, T, dim], T <= max_len
  Tensor operator()(const Tensor& x) const { return forward(x); }

  int64_t max_len, dim;
  Tensor weight;  // [max_len, dim]
};

}  // namespace tg
