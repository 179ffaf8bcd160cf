// Multi-head attention on the CPU, fused: one pass per (batch, head) pair computes the head's
// scores, softmax and weighted values while its [Lq, Lk] block is in cache (the formulas are in
// backend.h). The head is read where the projections wrote it: head h of q [B, Lq, heads * d]
// is the column block h d .. h d + d - 1, a matrix whose rows lie heads * d apart, which is
// what a gemm's leading dimension says. So, against composing the op from permute, batched
// gemm and softmax (backend/composed_attention.cpp), nothing is permuted on the way in or out,
// the mask is read where it broadcasts instead of being expanded to [B, heads, Lq, Lk], and the
// scores are never a tensor of their own: they are written where the weights go and turned into
// them there. The pairs are split over the threads; each product runs on its own thread.
// (The row kernels get separate input and output rows: in place, GCC's run-time check that the
// two do not overlap fails and the scalar copy of the loop runs, 6x slower in perf.)
#include <omp.h>

#include <algorithm>

#include "framework/backend/cpu/cpu_backend.h"
#include "framework/backend/cpu/cpu_small_gemm.h"
#include "framework/backend/cpu/cpu_softmax_rows.h"

namespace tg {
namespace {

// The sizes of one call, and where head h of batch b starts in each [B, L, heads * width].
struct HeadLayout {
  int64_t batch, heads, query_len, key_len, d, dv;

  HeadLayout(const Tensor& q, const Tensor& k, const Tensor& v, int64_t heads)
      : batch(q.size(0)),
        heads(heads),
        query_len(q.size(1)),
        key_len(k.size(1)),
        d(q.size(2) / heads),
        dv(v.size(2) / heads) {}

  int64_t pairs() const { return batch * heads; }
  int64_t scores_size() const { return query_len * key_len; }
  // Row widths of q and k (heads * d), of v and the output (heads * dv).
  int64_t qk_row() const { return heads * d; }
  int64_t v_row() const { return heads * dv; }
  int64_t query_offset(int64_t pair) const {  // of Q_bh in q (and of dQ_bh in its gradient)
    return (pair / heads) * query_len * qk_row() + (pair % heads) * d;
  }
  int64_t key_offset(int64_t pair) const {
    return (pair / heads) * key_len * qk_row() + (pair % heads) * d;
  }
  int64_t value_offset(int64_t pair) const {
    return (pair / heads) * key_len * v_row() + (pair % heads) * dv;
  }
  int64_t output_offset(int64_t pair) const {
    return (pair / heads) * query_len * v_row() + (pair % heads) * dv;
  }
  // Enough multiply-adds to be worth splitting the pairs over the threads.
  bool parallel() const {
    return pairs() > 1 && pairs() * scores_size() * (d + dv) >= kParallelThreshold;
  }
};

// The keep-mask read in place where it broadcasts to [B, heads, Lq, Lk]: the step along each of
// those dims is 0 where the mask lacks the dim or has it with size 1.
class KeepRows {
 public:
  KeepRows(const Tensor& keep, const HeadLayout& at) : heads_(at.heads) {
    if (!keep.defined()) return;
    data_ = keep.data<int32_t>();
    const std::vector<int64_t> steps =
        broadcast_strides(keep.shape(), {at.batch, at.heads, at.query_len, at.key_len});
    batch_step_ = steps[0];
    head_step_ = steps[1];
    query_step_ = steps[2];
    key_step_ = steps[3];
  }

  // y = softmax of the scores x of row i of one pair, over the keys the mask keeps there.
  void softmax(const float* x, float* y, int64_t pair, int64_t i, int64_t key_len) const {
    if (data_ == nullptr) return softmax_row(x, y, nullptr, key_len, 1, false);
    const int32_t* keep =
        data_ + (pair / heads_) * batch_step_ + (pair % heads_) * head_step_ + i * query_step_;
    if (key_step_ == 1) return softmax_row(x, y, keep, key_len, 1, false);
    // A mask with one value for the whole row ([..., 1] along the keys): all or nothing.
    if (*keep != 0) return softmax_row(x, y, nullptr, key_len, 1, false);
    std::fill(y, y + key_len, 0.0f);
  }

 private:
  const int32_t* data_ = nullptr;
  int64_t heads_, batch_step_ = 0, head_step_ = 0, query_step_ = 0, key_step_ = 0;
};

// out = a * b and x *= b, element by element: the weights, or their gradient, times the
// dropout mask.
void multiply(const float* a, const float* b, float* out, int64_t n) {
  for (int64_t e = 0; e < n; ++e) out[e] = a[e] * b[e];
}
void multiply_in_place(float* x, const float* b, int64_t n) {
  for (int64_t e = 0; e < n; ++e) x[e] *= b[e];
}

}  // namespace

MultiHeadAttentionResult CpuBackend::multi_head_attention(const Tensor& q, const Tensor& k,
                                                          const Tensor& v, int64_t heads,
                                                          float scale, const Tensor& keep,
                                                          const Tensor& drop) {
  const HeadLayout at(q, k, v, heads);
  MultiHeadAttentionResult result{
      empty({at.batch, at.query_len, at.v_row()}, DType::Float32, Device::CPU),
      empty({at.batch, heads, at.query_len, at.key_len}, DType::Float32, Device::CPU)};
  const KeepRows keep_rows(keep, at);
  const Tensor scratch = empty({omp_get_max_threads(), at.scores_size()});  // S, per thread
  const float* pq = q.data<float>();
  const float* pk = k.data<float>();
  const float* pv = v.data<float>();
  float* po = result.output.data<float>();
  float* pp = result.weights.data<float>();
  const float* pd = drop.defined() ? drop.data<float>() : nullptr;
#pragma omp parallel for if (at.parallel())
  for (int64_t pair = 0; pair < at.pairs(); ++pair) {
    float* p = pp + pair * at.scores_size();
    float* scores = scratch.data<float>() + omp_get_thread_num() * at.scores_size();
    // S = scale Q K^T
    single_gemm(false, true, at.query_len, at.key_len, at.d, scale, pq + at.query_offset(pair),
                at.qk_row(), pk + at.key_offset(pair), at.qk_row(), 0.0f, scores, at.key_len);
    // P = softmax(S) over the kept keys, row by row
    for (int64_t i = 0; i < at.query_len; ++i)
      keep_rows.softmax(scores + i * at.key_len, p + i * at.key_len, pair, i, at.key_len);
    // O = (P * D) V; the scores' block is free now and takes P * D
    const float* attended = p;
    if (pd != nullptr) {
      multiply(p, pd + pair * at.scores_size(), scores, at.scores_size());
      attended = scores;
    }
    single_gemm(false, false, at.query_len, at.dv, at.key_len, 1.0f, attended, at.key_len,
                pv + at.value_offset(pair), at.v_row(), 0.0f, po + at.output_offset(pair),
                at.v_row());
  }
  return result;
}

MultiHeadAttentionGrads CpuBackend::multi_head_attention_backward(
    const Tensor& grad_output, const Tensor& grad_weights, const Tensor& q, const Tensor& k,
    const Tensor& v, const Tensor& weights, const Tensor& drop, int64_t heads, float scale) {
  const HeadLayout at(q, k, v, heads);
  MultiHeadAttentionGrads grads{empty(q.shape(), DType::Float32, Device::CPU),
                                empty(k.shape(), DType::Float32, Device::CPU),
                                empty(v.shape(), DType::Float32, Device::CPU)};
  // dP' and dS of one pair, two blocks per thread.
  const Tensor scratch = empty({omp_get_max_threads(), 2, at.scores_size()});
  const float* pq = q.data<float>();
  const float* pk = k.data<float>();
  const float* pv = v.data<float>();
  const float* pp = weights.data<float>();
  const float* pgo = grad_output.data<float>();
  const float* pgp = grad_weights.defined() ? grad_weights.data<float>() : nullptr;
  const float* pd = drop.defined() ? drop.data<float>() : nullptr;
  float* gq = grads.q.data<float>();
  float* gk = grads.k.data<float>();
  float* gv = grads.v.data<float>();
#pragma omp parallel for if (at.parallel())
  for (int64_t pair = 0; pair < at.pairs(); ++pair) {
    const float* p = pp + pair * at.scores_size();
    const float* go = pgo + at.output_offset(pair);
    float* gp = scratch.data<float>() + omp_get_thread_num() * 2 * at.scores_size();
    float* gs = gp + at.scores_size();
    const float* d = pd != nullptr ? pd + pair * at.scores_size() : nullptr;
    // dV = (P * D)^T dO; dS's block is free until dS and takes P * D
    const float* attended = p;
    if (d != nullptr) {
      multiply(p, d, gs, at.scores_size());
      attended = gs;
    }
    single_gemm(true, false, at.key_len, at.dv, at.query_len, 1.0f, attended, at.key_len, go,
                at.v_row(), 0.0f, gv + at.value_offset(pair), at.v_row());
    // dP' = (dO V^T) * D + dP
    single_gemm(false, true, at.query_len, at.key_len, at.dv, 1.0f, go, at.v_row(),
                pv + at.value_offset(pair), at.v_row(), 0.0f, gp, at.key_len);
    if (d != nullptr) multiply_in_place(gp, d, at.scores_size());
    if (pgp != nullptr) {
      const float* given = pgp + pair * at.scores_size();
      for (int64_t e = 0; e < at.scores_size(); ++e) gp[e] += given[e];
    }
    // dS = P * (dP' - rowsum(dP' * P)) (masked entries: P = 0, so dS = 0)
    for (int64_t i = 0; i < at.query_len; ++i)
      softmax_backward_row(p + i * at.key_len, gp + i * at.key_len, gs + i * at.key_len, nullptr,
                           at.key_len, 1, false);
    // dQ = scale dS K,  dK = scale dS^T Q
    single_gemm(false, false, at.query_len, at.d, at.key_len, scale, gs, at.key_len,
                pk + at.key_offset(pair), at.qk_row(), 0.0f, gq + at.query_offset(pair),
                at.qk_row());
    single_gemm(true, false, at.key_len, at.d, at.query_len, scale, gs, at.key_len,
                pq + at.query_offset(pair), at.qk_row(), 0.0f, gk + at.key_offset(pair),
                at.qk_row());
  }
  return grads;
}

}  // namespace tg
