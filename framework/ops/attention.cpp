#include "framework/ops/attention.h"

#include <cmath>
#include <string>
#include <vector>

#include "framework/ops/checks.h"
#include "framework/ops/elementwise.h"
#include "framework/ops/matmul.h"
#include "framework/ops/nn.h"
#include "framework/ops/shape.h"

namespace tg {
namespace {

void check_float_tensor(const Tensor& t, const char* op, const char* name) {
  check(t.defined(), op, ": ", name, " is undefined");
  check(t.dtype() == DType::Float32, op, ": ", name, " must be float32, got ", to_string(t.dtype()),
        " ", t.shape());
}

}  // namespace

std::string attention_mask_problem(const Tensor& mask, const Tensor& scores) {
  return attention_mask_problem(mask, scores.shape(), scores.device());
}

std::string attention_mask_problem(const Tensor& mask, const Shape& s, Device scores_device) {
  if (!mask.defined()) return "";
  if (mask.device() != scores_device)
    return "mask on " + std::string(to_string(mask.device())) + " but scores on " +
           to_string(scores_device) + "; move it with .to()";
  const Shape& m = mask.shape();
  bool fits = m.size() <= s.size();
  for (size_t k = 0; fits && k < m.size(); ++k) {
    const int64_t mk = m[m.size() - 1 - k], sk = s[s.size() - 1 - k];
    fits = mk == 1 || mk == sk;
  }
  if (fits) return "";
  return "mask of shape " + to_string(m) + " does not broadcast to the scores' shape " +
         to_string(s) + " ([..., Lq, Lk]; 1 = attend)";
}

// ---- masks ----

Tensor key_padding_mask(const Tensor& valid_lens, int64_t key_len) {
  check(valid_lens.defined(), "key_padding_mask: valid_lens is undefined");
  check(valid_lens.dtype() == DType::Int32 && valid_lens.dim() == 1,
        "key_padding_mask: valid_lens must be int32 [B], got ", to_string(valid_lens.dtype()), " ",
        valid_lens.shape());
  check(key_len >= 0, "key_padding_mask: key_len must be >= 0, got ", key_len);
  // A length outside [0, key_len] is almost always lengths that belong to another batch.
  // Checked where the lengths live, without a copy to the host (check_values).
  check_values(valid_lens, {"key_padding_mask", "valid length", "batch index", 0, key_len, true});
  const int64_t batch = valid_lens.size(0);
  // keep[b, j] = j < valid_lens[b]
  const Tensor positions = arange(key_len, DType::Int32, valid_lens.device());
  return lt(positions.reshape({1, 1, 1, key_len}), valid_lens.reshape({batch, 1, 1, 1}));
}

Tensor causal_mask(int64_t len, Device device) {
  check(len >= 0, "causal_mask: len must be >= 0, got ", len);
  // keep[i, j] = j <= i
  const Tensor positions = arange(len, DType::Int32, device);
  return ge(positions.reshape({len, 1}), positions.reshape({1, len}));
}

// ---- scaled dot product ----

// Scaling q rather than the scores: Lq * d multiplications instead of Lq * Lk, same result.
Tensor scaled_dot_product_scores(const Tensor& q, const Tensor& k) {
  const char* op = "scaled_dot_product_attention";
  check_float_tensor(q, op, "q");
  check_float_tensor(k, op, "k");
  check(q.dim() >= 2 && k.dim() >= 2 && q.size(-1) == k.size(-1), op,
        ": expected q [..., Lq, d] and k [..., Lk, d] with the same d, got q ", q.shape(),
        " and k ", k.shape());
  const float scale = 1.0f / std::sqrt(static_cast<float>(q.size(-1)));
  return matmul(q * scale, k, /*trans_a=*/false, /*trans_b=*/true);
}

AttentionResult attend(const Tensor& scores, const Tensor& v, const AttentionMask& mask,
                       float dropout, bool training, Generator& gen) {
  const char* op = "attend";
  check_float_tensor(scores, op, "scores");
  check_float_tensor(v, op, "v");
  check(scores.dim() >= 2 && v.dim() >= 2 && scores.size(-1) == v.size(-2), op,
        ": expected scores [..., Lq, Lk] and v [..., Lk, dv] with the same Lk, got scores ",
        scores.shape(), " and v ", v.shape());
  const Tensor keep = mask.keep_mask(scores.dim(), scores.size(-1));
  const std::string problem = attention_mask_problem(keep, scores);
  check(problem.empty(), op, ": ", problem);
  check(dropout >= 0.0f && dropout < 1.0f, op, ": dropout must be in [0, 1), got ", dropout);

  const Tensor weights = softmax(scores, -1, keep);
  const Tensor kept = tg::dropout(weights, dropout, training, gen);
  return {matmul(kept, v), weights};
}

AttentionResult scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                             const AttentionMask& mask, float dropout,
                                             bool training, Generator& gen) {
  const char* op = "scaled_dot_product_attention";
  check_float_tensor(v, op, "v");
  check(v.dim() >= 2 && k.dim() >= 2 && v.size(-2) == k.size(-2), op,
        ": k [..., Lk, d] and v [..., Lk, dv] must have the same Lk, got k ", k.shape(), " and v ",
        v.shape());
  const Tensor scores = scaled_dot_product_scores(q, k);
  const std::string problem =
      attention_mask_problem(mask.keep_mask(scores.dim(), scores.size(-1)), scores);
  check(problem.empty(), op, ": ", problem);
  return attend(scores, v, mask, dropout, training, gen);
}

}  // namespace tg
