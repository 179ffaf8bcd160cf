// Embedding: a learned table of vectors, one per id. ids (int32, any shape) -> [ids..., dim].
#pragma once

#include "framework/random.h"
#include "layers/module_unary.h"

namespace tg {

struct Embedding : UnaryModule {
  // weight starts N(0, 1) as in PyTorch. padding_idx (-1: none) names the id of padding: its
  // row starts at zero and never receives a gradient, so padding contributes nothing.
  Embedding(int64_t num_embeddings, int64_t embedding_dim, int64_t padding_idx = -1,
            Generator& gen = default_generator());
  Tensor forward(const Tensor& ids) const override;

  int64_t num_embeddings, embedding_dim, padding_idx;
  Tensor weight;  // [num_embeddings, embedding_dim]
};

}  // namespace tg
