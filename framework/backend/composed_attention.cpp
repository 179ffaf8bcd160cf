// Multi-head attention composed from the kernels every backend has: the heads are permuted into
// a batch of their own, [B, L, heads * d] -> [B, heads, L, d], and the products, the softmax and
// its backward run over that batch. This is the default of Backend::multi_head_attention (the
// formulas are in backend.h); a device overrides it with a fused kernel (the CPU does, in
// cpu/cpu_attention.cpp) and the tests check the two against each other.
#include "framework/backend/backend.h"

namespace tg {
namespace {

// [B, L, heads * d] -> [B, heads, L, d], a copy.
Tensor split_heads(Backend& backend, const Tensor& x, int64_t heads) {
  const Tensor four_dims = make_view(x, {x.size(0), x.size(1), heads, x.size(2) / heads});
  return backend.permute(four_dims, {0, 2, 1, 3});
}

// [B, heads, L, d] -> [B, L, heads * d], a copy.
Tensor merge_heads(Backend& backend, const Tensor& x) {
  const Tensor merged = backend.permute(x, {0, 2, 1, 3});
  return make_view(merged, {x.size(0), x.size(2), x.size(1) * x.size(3)});
}

}  // namespace

MultiHeadAttentionResult Backend::multi_head_attention(const Tensor& q, const Tensor& k,
                                                       const Tensor& v, int64_t heads, float scale,
                                                       const Tensor& keep, const Tensor& drop) {
  const int64_t batch = q.size(0), query_len = q.size(1), key_len = k.size(1);
  const int64_t d = q.size(2) / heads, dv = v.size(2) / heads, pairs = batch * heads;
  const Tensor qh = split_heads(*this, q, heads), kh = split_heads(*this, k, heads);
  const Tensor vh = split_heads(*this, v, heads);
  // S = scale Q K^T
  const Shape scores_shape{batch, heads, query_len, key_len};
  const Tensor scores = empty(scores_shape, DType::Float32, device());
  gemm(false, true, query_len, key_len, d, scale, qh, query_len * d, kh, key_len * d, 0.0f, scores,
       query_len * key_len, pairs);
  // P = softmax(S) over the kept keys (the kernel takes the mask at the scores' shape)
  const Tensor full_keep =
      !keep.defined() || keep.shape() == scores_shape ? keep : expand(keep, scores_shape);
  Tensor weights = softmax(scores, 3, full_keep, /*log=*/false);
  // O = (P * D) V
  const Tensor dropped = drop.defined() ? binary(BinaryOp::Mul, weights, drop) : weights;
  const Tensor out = empty({batch, heads, query_len, dv}, DType::Float32, device());
  gemm(false, false, query_len, dv, key_len, 1.0f, dropped, query_len * key_len, vh, key_len * dv,
       0.0f, out, query_len * dv, pairs);
  return {merge_heads(*this, out), weights};
}

MultiHeadAttentionGrads Backend::multi_head_attention_backward(
    const Tensor& grad_output, const Tensor& grad_weights, const Tensor& q, const Tensor& k,
    const Tensor& v, const Tensor& weights, const Tensor& drop, int64_t heads, float scale) {
  const int64_t batch = q.size(0), query_len = q.size(1), key_len = k.size(1);
  const int64_t d = q.size(2) / heads, dv = v.size(2) / heads, pairs = batch * heads;
  const Tensor qh = split_heads(*this, q, heads), kh = split_heads(*this, k, heads);
  const Tensor vh = split_heads(*this, v, heads), goh = split_heads(*this, grad_output, heads);
  const int64_t scores_size = query_len * key_len;
  // dV = (P * D)^T dO
  const Tensor dropped = drop.defined() ? binary(BinaryOp::Mul, weights, drop) : weights;
  const Tensor gvh = empty({batch, heads, key_len, dv}, DType::Float32, device());
  gemm(true, false, key_len, dv, query_len, 1.0f, dropped, scores_size, goh, query_len * dv, 0.0f,
       gvh, key_len * dv, pairs);
  // dP' = (dO V^T) * D + dP
  Tensor gp = empty(weights.shape(), DType::Float32, device());
  gemm(false, true, query_len, key_len, dv, 1.0f, goh, query_len * dv, vh, key_len * dv, 0.0f, gp,
       scores_size, pairs);
  if (drop.defined()) gp = binary(BinaryOp::Mul, gp, drop);
  if (grad_weights.defined()) gp = binary(BinaryOp::Add, gp, grad_weights);
  // dS = P * (dP' - rowsum(dP' * P)); masked entries have P = 0, so no mask is needed
  const Tensor gs = softmax_backward(weights, gp, 3, Tensor(), /*log=*/false);
  // dQ = scale dS K,  dK = scale dS^T Q
  const Tensor gqh = empty({batch, heads, query_len, d}, DType::Float32, device());
  gemm(false, false, query_len, d, key_len, scale, gs, scores_size, kh, key_len * d, 0.0f, gqh,
       query_len * d, pairs);
  const Tensor gkh = empty({batch, heads, key_len, d}, DType::Float32, device());
  gemm(true, false, key_len, d, query_len, scale, gs, scores_size, qh, query_len * d, 0.0f, gkh,
       key_len * d, pairs);
  return {merge_heads(*this, gqh), merge_heads(*this, gkh), merge_heads(*this, gvh)};
}

}  // namespace tg
