// Local (windowed) attention: scaled_dot_product_attention on a band of keys around each query.
//
//   s[..., i, t] = q_i . k_j / sqrt(d),  j = i - w + t, t in [0, 2w]     band_dot   [..., L, 2w+1]
//   p[..., i, :] = softmax over the kept t of s[..., i, :]                (0 elsewhere)
//   o_i          = sum_t dropout(p)[..., i, t] v_j                        band_weighted_sum
//
// with kept(i, t) = 0 <= j < L  and  (j <= i, i.e. t <= w, when causal)  and  mask[..., i, j].
// A row with nothing kept gets zero weights and a zero output (softmax's convention), as in the
// full path. Nothing of size L^2 is made: the mask is read on the band only (index_select).
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "framework/ops/attention.h"
#include "framework/ops/banded.h"
#include "framework/ops/checks.h"
#include "framework/ops/elementwise.h"
#include "framework/ops/index.h"
#include "framework/ops/nn.h"

namespace tg {
namespace {

constexpr const char* kOp = "local_attention";

// Int32 [L, 2w+1]: 1 where position j = i - w + t lies in the sequence (and j <= i if causal).
Tensor band_structure(int64_t len, int64_t window, bool causal, Device device) {
  const int64_t band = 2 * window + 1;
  std::vector<int32_t> keep(static_cast<size_t>(len * band));
  for (int64_t i = 0; i < len; ++i)
    for (int64_t t = 0; t < band; ++t) {
      const int64_t j = i - window + t;
      keep[i * band + t] = j >= 0 && j < len && (!causal || j <= i);
    }
  return from_vector(keep, {len, band}, device);
}

// For each band entry (i, t), where mask[..., i, j] lies in the mask's last two dims flattened
// (mask_rows x mask_cols, each L or 1, 1 broadcasting). j is clamped into the sequence: the
// entries off it are dropped by band_structure whatever the mask says there.
Tensor band_gather_index(int64_t len, int64_t window, int64_t mask_rows, int64_t mask_cols,
                         Device device) {
  check(mask_rows * mask_cols <= std::numeric_limits<int32_t>::max(), kOp, ": a mask of ",
        mask_rows, " x ", mask_cols,
        " query-key pairs is too large to index; pass padding as valid lengths or a [B, L] mask");
  const int64_t band = 2 * window + 1;
  std::vector<int32_t> index(static_cast<size_t>(len * band));
  for (int64_t i = 0; i < len; ++i)
    for (int64_t t = 0; t < band; ++t) {
      const int64_t j = std::clamp<int64_t>(i - window + t, 0, std::max<int64_t>(len - 1, 0));
      const int64_t row = mask_rows == 1 ? 0 : i, col = mask_cols == 1 ? 0 : j;
      index[i * band + t] = static_cast<int32_t>(row * mask_cols + col);
    }
  return from_vector(index, {len * band}, device);
}

// The keep-mask on the band, Int32 [mask's leading dims..., L, 2w+1] (or [L, 2w+1]).
Tensor keep_band(const AttentionMask& mask, const Shape& scores_shape, int64_t window, bool causal,
                 Device device) {
  const int64_t rank = static_cast<int64_t>(scores_shape.size()), len = scores_shape.back();
  const Tensor structure = band_structure(len, window, causal, device);
  const Tensor keep = mask.keep_mask(rank, len);
  if (!keep.defined()) return structure;
  const std::string problem = attention_mask_problem(keep, scores_shape, device);
  check(problem.empty(), kOp, ": ", problem);

  Shape shape = keep.shape();  // brought to the scores' rank: [lead..., rows, cols]
  shape.insert(shape.begin(), scores_shape.size() - shape.size(), 1);
  const int64_t rows = shape[rank - 2], cols = shape[rank - 1];
  Shape flat(shape.begin(), shape.end() - 2), banded = flat;
  flat.push_back(rows * cols);
  banded.push_back(len);
  banded.push_back(2 * window + 1);
  const Tensor index = band_gather_index(len, window, rows, cols, device);
  const Tensor on_band = index_select(keep.reshape(flat), -1, index).reshape(banded);
  return structure * ne(on_band, full({}, 0.0f, on_band.dtype(), device));
}

void check_sequence(const Tensor& x, const char* name) {
  check(x.defined(), kOp, ": ", name, " is undefined");
  check(x.dtype() == DType::Float32 && x.dim() >= 2, kOp, ": ", name,
        " must be float32 [..., L, features], got ", to_string(x.dtype()), " ", x.shape());
}

}  // namespace

AttentionResult local_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t window,
                                const AttentionMask& mask, bool causal, float dropout,
                                bool training, Generator& gen) {
  check_sequence(q, "q");
  check_sequence(k, "k");
  check_sequence(v, "v");
  check(q.size(-2) == k.size(-2), kOp,
        ": the window is centred on each query's own position, so queries and keys must be one "
        "sequence (self-attention, Lq == Lk); got q ",
        q.shape(), " and k ", k.shape(), ". For cross-attention use scaled_dot_product_attention");
  check(q.shape() == k.shape(), kOp, ": q and k must have the same shape [..., L, d], got q ",
        q.shape(), " and k ", k.shape());
  const Shape rows(q.shape().begin(), q.shape().end() - 1);
  check(Shape(v.shape().begin(), v.shape().end() - 1) == rows, kOp,
        ": v must be [..., L, dv] with q's leading dims and L, got q ", q.shape(), " and v ",
        v.shape());
  check_same_device(q, k, kOp);
  check_same_device(q, v, kOp);
  check(window >= 0, kOp, ": window must be >= 0, got ", window);
  check(dropout >= 0.0f && dropout < 1.0f, kOp, ": dropout must be in [0, 1), got ", dropout);

  Shape scores_shape = q.shape();  // [..., L, L]: the shape the mask must fit; never allocated
  scores_shape.back() = q.size(-2);
  const Tensor keep = keep_band(mask, scores_shape, window, causal, q.device());

  const float scale = 1.0f / std::sqrt(static_cast<float>(q.size(-1)));
  const Tensor scores = band_dot(q * scale, k, window);
  const Tensor weights = softmax(scores, -1, keep);
  const Tensor kept = tg::dropout(weights, dropout, training, gen);
  return {band_weighted_sum(kept, v, window), weights};
}

}  // namespace tg
