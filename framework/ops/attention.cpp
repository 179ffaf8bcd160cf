#include "framework/ops/attention.h"

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "framework/backend/backend.h"
#include "framework/ops/checks.h"
#include "framework/ops/elementwise.h"
#include "framework/ops/matmul.h"
#include "framework/ops/nn.h"
#include "framework/ops/shape.h"
#include "framework/tape.h"

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

Tensor window_mask(int64_t len, int64_t window, Device device) {
  check(len >= 0, "window_mask: len must be >= 0, got ", len);
  check(window >= 0, "window_mask: window must be >= 0, got ", window);
  // keep[i, j] = |i - j| <= window, built on the host (len^2 small integers) and moved once.
  std::vector<int32_t> keep(static_cast<size_t>(len * len));
  for (int64_t i = 0; i < len; ++i)
    for (int64_t j = 0; j < len; ++j) keep[i * len + j] = std::abs(i - j) <= window ? 1 : 0;
  return from_vector(keep, {len, len}).to(device);
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

// ---- multi-head attention, the heads side by side ----

Tensor split_heads(const Tensor& x, int64_t heads) {
  check(x.defined() && x.dim() == 3 && heads > 0 && x.size(2) % heads == 0,
        "split_heads: expected [B, L, heads * w] with heads = ", heads, " > 0, got ",
        x.defined() ? to_string(x.shape()) : std::string("an undefined tensor"));
  return x.reshape({x.size(0), x.size(1), heads, x.size(2) / heads}).permute({0, 2, 1, 3});
}

Tensor merge_heads(const Tensor& x) {
  check(x.defined() && x.dim() == 4, "merge_heads: expected [B, heads, L, w], got ",
        x.defined() ? to_string(x.shape()) : std::string("an undefined tensor"));
  return x.permute({0, 2, 1, 3}).reshape({x.size(0), x.size(2), x.size(1) * x.size(3)});
}

// The fused op records both outputs at once: a gradient can reach the weights too (a loss on
// the attention pattern), and backward then adds its share to dS (backend.h).
AttentionResult multi_head_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                     int64_t heads, const AttentionMask& mask, float dropout,
                                     bool training, Generator& gen) {
  const char* op = "multi_head_attention";
  check_float_tensor(q, op, "q");
  check_float_tensor(k, op, "k");
  check_float_tensor(v, op, "v");
  check(heads > 0, op, ": heads must be positive, got ", heads);
  check(q.dim() == 3 && k.dim() == 3 && v.dim() == 3 && k.size(0) == q.size(0) &&
            v.size(0) == q.size(0) && k.size(1) == v.size(1) && k.size(2) == q.size(2),
        op, ": expected q [B, Lq, heads * d], k [B, Lk, heads * d], v [B, Lk, heads * dv], got q ",
        q.shape(), ", k ", k.shape(), " and v ", v.shape());
  check(q.size(2) > 0 && q.size(2) % heads == 0 && v.size(2) % heads == 0, op,
        ": the widths of q and k (", q.size(2), ") and of v (", v.size(2),
        ") must be positive multiples of heads (", heads, ")");
  check(k.device() == q.device() && v.device() == q.device(), op,
        ": q, k and v must be on one device, got ", to_string(q.device()), ", ",
        to_string(k.device()), " and ", to_string(v.device()));
  check(dropout >= 0.0f && dropout < 1.0f, op, ": dropout must be in [0, 1), got ", dropout);
  const int64_t batch = q.size(0), query_len = q.size(1), key_len = k.size(1);
  const Shape scores_shape{batch, heads, query_len, key_len};
  Tensor keep = mask.keep_mask(4, key_len);
  const std::string problem = attention_mask_problem(keep, scores_shape, q.device());
  check(problem.empty(), op, ": ", problem);

  // Nothing to attend: the composition it equals (zero output, empty weights).
  if (query_len == 0 || key_len == 0) {
    const AttentionResult r =
        scaled_dot_product_attention(split_heads(q, heads), split_heads(k, heads),
                                     split_heads(v, heads), mask, dropout, training, gen);
    return {merge_heads(r.output), r.weights};
  }

  if (keep.defined() && keep.dtype() != DType::Int32)
    keep = ne(keep, full({}, 0.0f, keep.dtype(), keep.device()));
  const float scale = 1.0f / std::sqrt(static_cast<float>(q.size(2) / heads));
  // Attention dropout: the mask tg::dropout would draw on the weights, applied in the kernel.
  const Tensor drop =
      dropout > 0.0f && training ? dropout_mask(scores_shape, dropout, gen, q.device()) : Tensor();
  MultiHeadAttentionResult r =
      backend_of(q).multi_head_attention(q, k, v, heads, scale, keep, drop);
  std::vector<Tensor> outputs = record_multi(
      op, {q, k, v}, {r.output, r.weights}, /*saved=*/{q, k, v, r.weights, drop},
      [heads, scale](const Saved& s, const std::vector<Tensor>& g) -> Grads {
        const Tensor& q = s[0];
        const Tensor& v = s[2];
        // Only the weights got a gradient: the output's is zero.
        const Tensor grad_output =
            g[0].defined() ? g[0]
                           : zeros({q.size(0), q.size(1), v.size(2)}, DType::Float32, q.device());
        const MultiHeadAttentionGrads grads = backend_of(q).multi_head_attention_backward(
            grad_output, g[1], q, s[1], v, s[3], s[4], heads, scale);
        return {grads.q, grads.k, grads.v};
      });
  return {outputs[0], outputs[1]};
}

}  // namespace tg
