// The backend interface: everything a device must provide for the ops to run on it.
//
// Ops (framework/ops) never touch memory or BLAS themselves; they check their inputs, call the
// backend of their inputs' device and record the result on the tape. Adding a device means
// implementing this class once; adding an op means composing existing kernels, or adding a
// kernel here and one per device.
//
// Conventions: every tensor a kernel receives is contiguous and on this backend's device; the
// op has already checked shapes and dtypes. Kernels that return a Tensor allocate it with
// tg::empty on their own device.
#pragma once

#include <cstdint>
#include <vector>

#include "framework/backend/optimizer_steps.h"
#include "framework/backend/threads.h"
#include "framework/tensor.h"

namespace tg {

// The elementwise functions a device computes. Ops compose their derivatives from these and the
// binary kernels (framework/ops/unary.cpp).
enum class UnaryOp {
  Neg,
  Exp,
  Log,
  Sqrt,
  Tanh,
  Sigmoid,
  Relu,
  Gelu,
  Abs,
  Pow,
  Clamp,
  Sign,            // -1, 0 or 1: abs's derivative
  GeluDerivative,  // Phi(x) + x phi(x) in one pass, where tensor ops would take six
};
// Comparisons return Int32 0/1; the others keep their inputs' dtype.
enum class BinaryOp { Add, Sub, Mul, Div, Maximum, Minimum, Eq, Ne, Lt, Le, Gt, Ge };
enum class ReduceOp { Sum, Max, Min };
enum class RandomKind { Uniform, Normal, Bernoulli };

struct LayerNormResult {
  Tensor y, mean, rstd;  // mean and rstd = 1/sqrt(var + eps) per row, kept for backward
};
struct LayerNormGrads {
  Tensor x, weight, bias;
};
struct LSTMCellResult {
  Tensor h, c;         // [B, H]
  Tensor activations;  // [B, 4H]: sigmoid(i), sigmoid(f), tanh(g), sigmoid(o), kept for backward
};
struct LSTMCellGrads {
  Tensor gates, c_prev;  // [B, 4H] (before the nonlinearities), [B, H]
};
struct MultiHeadAttentionResult {
  Tensor output;   // [B, Lq, heads * dv]
  Tensor weights;  // [B, heads, Lq, Lk], kept for backward
};
struct MultiHeadAttentionGrads {
  Tensor q, k, v;
};
// A check that every value of an int32 tensor (ids, targets, lengths) is allowed, and the
// message it throws: "<op>: <what> <value> at <where> <i> is out of range [low, high)", or
// "[low, high]" when high_inclusive. The strings are literals: a GPU reports the check later.
struct RangeCheck {
  const char* op;     // "embedding"
  const char* what;   // "id"
  const char* where;  // "position"
  int64_t low, high;
  bool high_inclusive = false;
  int64_t exempt = INT64_MIN;  // a value allowed whatever the range (a loss's ignore_index)
  bool allows(int64_t value) const {
    return value == exempt || (value >= low && (high_inclusive ? value <= high : value < high));
  }
};
[[noreturn]] void fail_out_of_range(const RangeCheck& range, int64_t value, int64_t index,
                                    const char* note = "");

struct CrossEntropyResult {
  Tensor loss;   // [N] per row, 0 where the target is ignored
  Tensor probs;  // [N, C] softmax of the logits, kept for backward
};

class Backend : public DeviceAllocator {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;

  // ---- memory (allocate and deallocate come from DeviceAllocator, framework/storage.h) ----
  virtual void copy_from_host(const Tensor& dst, const void* src) = 0;  // dst.nbytes() bytes
  virtual void copy_to_host(const Tensor& src, void* dst) = 0;
  virtual void copy(const Tensor& src, const Tensor& dst) = 0;  // same device, same size
  // Throws fail_out_of_range for the first value of `values` (Int32) that `range` does not
  // allow. The CPU checks at once. A GPU checks in a kernel and throws at its next host copy
  // or synchronize: validating ids must not make the host wait for the GPU. Kernels that take
  // indices skip a bad one meanwhile, so nothing is read or written out of bounds.
  virtual void check_range(const Tensor& values, const RangeCheck& range) = 0;

  // ---- filling ----
  virtual void fill(const Tensor& t, float value) = 0;
  virtual void arange(const Tensor& t, float start, float step) = 0;
  // Element i draws from Philox(seed, counter = offset + i): the same numbers on every device.
  // Uniform in [a, b); Normal with mean a and stddev b; Bernoulli: b with probability a, else 0.
  virtual void random(const Tensor& t, RandomKind kind, float a, float b, uint64_t seed,
                      uint64_t offset) = 0;

  // ---- elementwise ----
  // y = f(x) for float32 x; a, b are f's scalar parameters (pow: a = exponent; clamp: [a, b]).
  // Derivatives are the ops' business (framework/ops/unary.cpp), not the backend's.
  virtual Tensor unary(UnaryOp op, const Tensor& x, float a, float b) = 0;
  // NumPy broadcasting between a and b (the op has checked the shapes are compatible).
  virtual Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) = 0;
  // out = cond != 0 ? a : b, all three broadcast to out_shape.
  virtual Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b,
                       const Shape& out_shape) = 0;
  virtual Tensor cast(const Tensor& x, DType dtype) = 0;
  // dst += src in place, same shape (how a leaf's gradient accumulates). The default composes
  // two kernels; a backend may fuse it.
  virtual void accumulate(const Tensor& dst, const Tensor& src) {
    copy(binary(BinaryOp::Add, dst, src), dst);
  }
  virtual Tensor expand(const Tensor& x, const Shape& shape) = 0;  // broadcast copy
  // Waits until every kernel launched so far has finished (a GPU runs them asynchronously);
  // timing code calls it before reading the clock. The CPU computes eagerly: nothing to wait for.
  virtual void synchronize() {}

  // ---- reductions over one dim; the result keeps that dim with size 1 ----
  virtual Tensor reduce(ReduceOp op, const Tensor& x, int64_t dim) = 0;
  virtual Tensor argmax(const Tensor& x, int64_t dim) = 0;  // Int32, dim kept with size 1

  // ---- layout ----
  virtual Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) = 0;
  // Both tensors seen as [outer, n, inner]: copies src[:, src_start : src_start+length, :]
  // into dst[:, dst_start : dst_start+length, :]. Serves narrow, concat and their backward.
  virtual void copy_block(const Tensor& src, int64_t src_n, int64_t src_start, const Tensor& dst,
                          int64_t dst_n, int64_t dst_start, int64_t length, int64_t outer,
                          int64_t inner) = 0;
  // x seen as [outer, n, inner]; out[:, i, :] = x[:, index[i], :].
  virtual Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) = 0;
  // dst seen as [outer, n, inner]; dst[:, index[i], :] += src[:, i, :], skipping rows whose
  // index equals skip_index (embedding's padding_idx; -1 skips nothing).
  virtual void index_add(const Tensor& dst, int64_t dim, const Tensor& index, const Tensor& src,
                         int64_t skip_index) = 0;

  // ---- matrix products ----
  // For b in [0, batch): C_b = alpha * op(A_b) op(B_b) + beta * C_b, row-major, where
  // op(X) = X^T when its flag is set, op(A_b) is m x k, op(B_b) is k x n, and X_b starts at
  // element b * stride_x of X. A stride of 0 broadcasts one matrix across the batch.
  virtual void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                    const Tensor& a, int64_t stride_a, const Tensor& b, int64_t stride_b,
                    float beta, const Tensor& c, int64_t stride_c, int64_t batch) = 0;

  // ---- fused neural-network kernels ----
  // Softmax (or log-softmax) along dim. mask, when defined, is Int32 of x's shape, 1 = keep.
  // Masked entries give 0; a fully masked row gives all zeros.
  virtual Tensor softmax(const Tensor& x, int64_t dim, const Tensor& mask, bool log) = 0;
  virtual Tensor softmax_backward(const Tensor& y, const Tensor& gy, int64_t dim,
                                  const Tensor& mask, bool log) = 0;
  // logits [N, C], targets Int32 [N].
  virtual CrossEntropyResult cross_entropy(const Tensor& logits, const Tensor& targets,
                                           int64_t ignore_index, float label_smoothing) = 0;
  // grad_loss [N]: d(total)/d(loss row).
  virtual Tensor cross_entropy_backward(const Tensor& probs, const Tensor& targets,
                                        const Tensor& grad_loss, int64_t ignore_index,
                                        float label_smoothing) = 0;
  // Normalises over the last dim. weight/bias may be undefined.
  virtual LayerNormResult layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                     float eps) = 0;
  // ---- multi-head attention with the heads side by side, as the projections make them ----
  // q [B, Lq, heads * d], k [B, Lk, heads * d], v [B, Lk, heads * dv]; head h owns columns
  // h d .. h d + d - 1 of q and k (h dv .. of v and of the output). For each b and h:
  //   P = softmax(scale Q K^T) over the keys that keep [broadcast to B, heads, Lq, Lk] keeps,
  //   O = (P * D) V,  D the dropout mask (tg::dropout_mask), or O = P V without one.
  // keep is Int32 (nonzero = attend) or undefined (attend everywhere); drop is Float32
  // [B, heads, Lq, Lk] (0 or 1 / (1 - p)) or undefined. A query with no key kept gets zero
  // weights and a zero output. The backward, given dO (and dP, undefined when no gradient
  // reached the weights), with D = 1 where there is no mask:
  //   dV = (P * D)^T dO,  dP' = (dO V^T) * D + dP,  dS = P * (dP' - rowsum(dP' * P)),
  //   dQ = scale dS K,  dK = scale dS^T Q.
  // (Masked entries have P = 0, so dS is 0 there without the mask.) The defaults compose
  // permute, gemm and softmax (backend/composed_attention.cpp); the CPU fuses them.
  virtual MultiHeadAttentionResult multi_head_attention(const Tensor& q, const Tensor& k,
                                                        const Tensor& v, int64_t heads, float scale,
                                                        const Tensor& keep, const Tensor& drop);
  virtual MultiHeadAttentionGrads multi_head_attention_backward(
      const Tensor& grad_output, const Tensor& grad_weights, const Tensor& q, const Tensor& k,
      const Tensor& v, const Tensor& weights, const Tensor& drop, int64_t heads, float scale);

  // ---- banded products: local attention's band of 2w+1 keys around each query ----
  // Tensors are [N, L, ...]; entry t of row i's band is position j = i - w + t, t in [0, 2w].
  // Entries whose j falls outside [0, L) are 0 in every result and never read in an input.
  //   band_dot           out[n, i, t] = a[n, i, :] . b[n, j, :]       [N,L,d] x [N,L,d] ->
  //   [N,L,2w+1] band_weighted_sum  out[n, i, :] = sum_t p[n, i, t] v[n, j, :]   [N,L,2w+1] x
  //   [N,L,d] -> [N,L,d] band_transpose     out[n, j, s] = p[n, j - w + s, 2w - s]       [N,L,2w+1]
  //   -> [N,L,2w+1]
  // band_transpose is the band of the transposed [L, L] matrix (P^T[j, i] = P[i, j]: entry
  // (i, t) moves to (j, 2w - t)); the derivatives of the other two need it (ops/banded.cpp).
  virtual Tensor band_dot(const Tensor& a, const Tensor& b, int64_t window) = 0;
  virtual Tensor band_weighted_sum(const Tensor& p, const Tensor& v, int64_t window) = 0;
  virtual Tensor band_transpose(const Tensor& p, int64_t window) = 0;

  // ---- optimizer updates: one fused pass over each parameter, in place ----
  // The update rules are written out in backend/cpu/cpu_optim.cpp. Buffers a rule does not use
  // (momentum when momentum == 0, max_exp_avg_sq without AMSGrad...) are undefined.
  virtual void sgd_step(const SgdStep& step, const Tensor& param, const Tensor& grad,
                        const Tensor& momentum_buffer) = 0;
  virtual void adam_step(const AdamStep& step, const Tensor& param, const Tensor& grad,
                         const Tensor& exp_avg, const Tensor& exp_avg_sq,
                         const Tensor& max_exp_avg_sq) = 0;
  virtual void rmsprop_step(const RmspropStep& step, const Tensor& param, const Tensor& grad,
                            const Tensor& square_avg, const Tensor& grad_avg,
                            const Tensor& momentum_buffer) = 0;

  // The pointwise part of an LSTM step. gates [B, 4H] are the pre-activations in the order
  // i, f, g, o; c = sigmoid(f) c_prev + sigmoid(i) tanh(g), h = sigmoid(o) tanh(c).
  virtual LSTMCellResult lstm_cell(const Tensor& gates, const Tensor& c_prev) = 0;
  // grad_h and grad_c may be undefined (no gradient reached that output).
  virtual LSTMCellGrads lstm_cell_backward(const Tensor& activations, const Tensor& c_prev,
                                           const Tensor& c, const Tensor& grad_h,
                                           const Tensor& grad_c) = 0;
  virtual LayerNormGrads layer_norm_backward(const Tensor& gy, const Tensor& x,
                                             const Tensor& weight, const Tensor& mean,
                                             const Tensor& rstd, bool need_weight_grads) = 0;
};

// The backend of each device, created on first use (backend/registry.cpp).
Backend& backend_for(Device device);
inline Backend& backend_of(const Tensor& t) { return backend_for(t.device()); }

}  // namespace tg
