#include "layers/attention.h"

#include <string>

#include "framework/ops/checks.h"
#include "framework/tapegrad.h"

namespace tg {

// ---- additive (Bahdanau) attention ----

AdditiveAttention::AdditiveAttention(int64_t query_dim, int64_t key_dim, int64_t hidden,
                                     float dropout, Generator& gen)
    : Module("AdditiveAttention"),
      w_q(query_dim, hidden, /*bias=*/false, gen),
      w_k(key_dim, hidden, /*bias=*/false, gen),
      w_v(hidden, 1, /*bias=*/false, gen),
      dropout_(dropout),
      gen_(gen) {
  check(dropout >= 0.0f && dropout < 1.0f, *this, ": dropout must be in [0, 1), got ", dropout);
  register_module("w_q", w_q);
  register_module("w_k", w_k);
  register_module("w_v", w_v);
}

AttentionResult AdditiveAttention::forward(const Tensor& queries, const Tensor& keys,
                                           const Tensor& values, const AttentionMask& mask) const {
  return forward_projected(queries, project_keys(keys), values, mask);
}

Tensor AdditiveAttention::project_keys(const Tensor& keys) const {
  const int64_t key_dim = w_k.in_features;
  check(keys.defined() && keys.dim() >= 2 && keys.size(-1) == key_dim, *this,
        ": expected keys [..., Lk, ", key_dim, "], got ",
        [&] { return keys.defined() ? to_string(keys.shape()) : "undefined"; });
  return w_k(keys);
}

AttentionResult AdditiveAttention::forward_projected(const Tensor& queries,
                                                     const Tensor& projected_keys,
                                                     const Tensor& values,
                                                     const AttentionMask& mask) const {
  const int64_t query_dim = w_q.in_features, hidden = w_k.out_features;
  check(queries.defined() && queries.dim() >= 2 && queries.size(-1) == query_dim, *this,
        ": expected queries [..., Lq, ", query_dim, "], got ",
        [&] { return queries.defined() ? to_string(queries.shape()) : "undefined"; });
  check(projected_keys.defined() && projected_keys.dim() >= 2 && projected_keys.size(-1) == hidden,
        *this, ": expected projected keys [..., Lk, ", hidden, "] (project_keys), got ",
        [&] { return projected_keys.defined() ? to_string(projected_keys.shape()) : "undefined"; });
  check(values.defined() && values.dim() >= 2 && values.size(-2) == projected_keys.size(-2), *this,
        ": expected values [..., Lk, dv] with Lk = ", projected_keys.size(-2), " as in keys, got ",
        [&] { return values.defined() ? to_string(values.shape()) : "undefined"; });

  // [..., Lq, 1, h] + [..., 1, Lk, h] -> [..., Lq, Lk, h] -> w_v -> [..., Lq, Lk]
  const Tensor features = tanh(w_q(queries).unsqueeze(-2) + projected_keys.unsqueeze(-3));
  const Tensor scores = w_v(features).squeeze(-1);
  const std::string problem =
      attention_mask_problem(mask.keep_mask(scores.dim(), scores.size(-1)), scores);
  check(problem.empty(), *this, ": ", problem);
  return attend(scores, values, mask, dropout_, is_training(), gen_);
}

}  // namespace tg
