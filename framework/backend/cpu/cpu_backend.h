// The CPU backend: OpenBLAS for matrix products, OpenMP loops for everything else.
//
// The kernels are split by family over several .cpp files (memory, elementwise, reduce, layout,
// gemm, nn); this header is the one list of them.
#pragma once

#include <cmath>
#include <cstdint>

#include "framework/backend/backend.h"
#include "framework/backend/strides.h"

namespace tg {

class CpuBackend final : public Backend {
 public:
  Device device() const override { return Device::CPU; }

  void* allocate(size_t bytes) override;
  void deallocate(void* pointer, size_t bytes) override;
  void copy_from_host(const Tensor& dst, const void* src) override;
  void copy_to_host(const Tensor& src, void* dst) override;
  void check_range(const Tensor& values, const RangeCheck& range) override;
  void copy(const Tensor& src, const Tensor& dst) override;

  void fill(const Tensor& t, float value) override;
  void arange(const Tensor& t, float start, float step) override;
  void random(const Tensor& t, RandomKind kind, float a, float b, uint64_t seed,
              uint64_t offset) override;

  Tensor unary(UnaryOp op, const Tensor& x, float a, float b) override;
  Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) override;
  Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b,
               const Shape& out_shape) override;
  Tensor cast(const Tensor& x, DType dtype) override;
  void accumulate(const Tensor& dst, const Tensor& src) override;
  Tensor expand(const Tensor& x, const Shape& shape) override;

  Tensor reduce(ReduceOp op, const Tensor& x, int64_t dim) override;
  Tensor argmax(const Tensor& x, int64_t dim) override;

  Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) override;
  void copy_block(const Tensor& src, int64_t src_n, int64_t src_start, const Tensor& dst,
                  int64_t dst_n, int64_t dst_start, int64_t length, int64_t outer,
                  int64_t inner) override;
  Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) override;
  void index_add(const Tensor& dst, int64_t dim, const Tensor& index, const Tensor& src,
                 int64_t skip_index) override;

  void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
            const Tensor& a, int64_t stride_a, const Tensor& b, int64_t stride_b, float beta,
            const Tensor& c, int64_t stride_c, int64_t batch) override;

  Tensor softmax(const Tensor& x, int64_t dim, const Tensor& mask, bool log) override;
  Tensor softmax_backward(const Tensor& y, const Tensor& gy, int64_t dim, const Tensor& mask,
                          bool log) override;
  CrossEntropyResult cross_entropy(const Tensor& logits, const Tensor& targets,
                                   int64_t ignore_index, float label_smoothing) override;
  Tensor cross_entropy_backward(const Tensor& probs, const Tensor& targets, const Tensor& grad_loss,
                                int64_t ignore_index, float label_smoothing) override;
  LayerNormResult layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias,
                             float eps) override;
  MultiHeadAttentionResult multi_head_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                                int64_t heads, float scale, const Tensor& keep,
                                                const Tensor& drop) override;
  MultiHeadAttentionGrads multi_head_attention_backward(const Tensor& grad_output,
                                                        const Tensor& grad_weights, const Tensor& q,
                                                        const Tensor& k, const Tensor& v,
                                                        const Tensor& weights, const Tensor& drop,
                                                        int64_t heads, float scale) override;
  Tensor band_dot(const Tensor& a, const Tensor& b, int64_t window) override;
  Tensor band_weighted_sum(const Tensor& p, const Tensor& v, int64_t window) override;
  Tensor band_transpose(const Tensor& p, int64_t window) override;
  void sgd_step(const SgdStep& step, const Tensor& param, const Tensor& grad,
                const Tensor& momentum_buffer) override;
  void adam_step(const AdamStep& step, const Tensor& param, const Tensor& grad,
                 const Tensor& exp_avg, const Tensor& exp_avg_sq,
                 const Tensor& max_exp_avg_sq) override;
  void rmsprop_step(const RmspropStep& step, const Tensor& param, const Tensor& grad,
                    const Tensor& square_avg, const Tensor& grad_avg,
                    const Tensor& momentum_buffer) override;
  LSTMCellResult lstm_cell(const Tensor& gates, const Tensor& c_prev) override;
  LSTMCellGrads lstm_cell_backward(const Tensor& activations, const Tensor& c_prev, const Tensor& c,
                                   const Tensor& grad_h, const Tensor& grad_c) override;
  LayerNormGrads layer_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& weight,
                                     const Tensor& mean, const Tensor& rstd,
                                     bool need_weight_grads) override;
};

// Loops shorter than this stay on one thread: spawning work costs more than it saves. With two
// threads each gets at least 32768 elements, PyTorch's grain size: at 32768 in all (16384 a
// thread) the MLP step ran 25% slower on two threads than at this threshold, on a host where a
// thread's share of a small loop costs more to hand over than to compute (bench/NOTES.md,
// fourteenth session).
constexpr int64_t kParallelThreshold = 65536;

}  // namespace tg
