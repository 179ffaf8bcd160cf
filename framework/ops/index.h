// Gathering rows by index: index_select and embedding lookup. Their backward scatter-adds.
#pragma once

#include "framework/tensor.h"

namespace tg {

// out = x gathered along dim at the Int32 1-D index (values in [0, x.size(dim))).
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);

// weight [num_embeddings, dim], ids Int32 of any shape -> [ids.shape..., dim].
// Rows looked up at padding_idx receive no gradient (padding_idx < 0: none).
Tensor embedding(const Tensor& weight, const Tensor& ids, int64_t padding_idx = -1);

}  // namespace tg
