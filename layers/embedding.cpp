#include "layers/embedding.h"

#include "framework/ops/index.h"
#include "framework/ops/shape.h"
#include "framework/tape.h"
#include "layers/init.h"

namespace tg {

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim, int64_t padding_idx,
                     Generator& gen)
    : UnaryModule("Embedding"),
      num_embeddings(num_embeddings),
      embedding_dim(embedding_dim),
      padding_idx(padding_idx) {
  check(num_embeddings > 0 && embedding_dim > 0, *this,
        ": num_embeddings and embedding_dim must be positive, got ", num_embeddings, " and ",
        embedding_dim);
  check(padding_idx >= -1 && padding_idx < num_embeddings, *this, ": padding_idx ", padding_idx,
        " is out of range [0, ", num_embeddings, ") (use -1 for none)");
  weight = empty({num_embeddings, embedding_dim});
  init::normal_(weight, 0.0f, 1.0f, gen);
  if (padding_idx >= 0) {
    Tensor padding_row = narrow(weight, 0, padding_idx, 1);  // a view into weight
    init::zeros_(padding_row);
  }
  register_parameter("weight", weight);
}

Tensor Embedding::forward(const Tensor& ids) const {
  check(ids.defined(), *this, ": expected int32 ids, got an undefined tensor");
  check(ids.dtype() == DType::Int32, *this, ": expected int32 ids, got ", to_string(ids.dtype()),
        " ", ids.shape());
  return embedding(weight, ids, padding_idx);
}

}  // namespace tg
