// The fused LSTM cell: one pass over [B, H] for the gate nonlinearities and the state update,
// and one for their derivatives, instead of a dozen elementwise ops each with its own tensor.
#include <cmath>

#include "framework/backend/cpu/cpu_backend.h"
#include "framework/backend/cpu/cpu_math.h"
#include "framework/backend/cpu/cpu_vector.h"

namespace tg {

// One row of the cell. The gate pre-activations are [i | f | g | o], each `hidden` wide:
// sigmoid over i and f, tanh over g, sigmoid over o; then c = f c_prev + i g, h = o tanh(c).
// Each loop reads one array and writes another, so it vectorises.
TG_VECTOR_KERNEL static void lstm_cell_row(const float* pre, const float* c_in, float* a,
                                           float* c_out, float* h_out, int64_t hidden) {
  for (int64_t j = 0; j < 2 * hidden; ++j) a[j] = fast_sigmoid(pre[j]);
  for (int64_t j = 2 * hidden; j < 3 * hidden; ++j) a[j] = fast_tanh(pre[j]);
  for (int64_t j = 3 * hidden; j < 4 * hidden; ++j) a[j] = fast_sigmoid(pre[j]);
  const float *i = a, *f = a + hidden, *g = a + 2 * hidden, *o = a + 3 * hidden;
  // The arrays do not overlap; `omp simd` says so, sparing the compiler the run-time checks.
#pragma omp simd
  for (int64_t j = 0; j < hidden; ++j) {
    c_out[j] = f[j] * c_in[j] + i[j] * g[j];
    h_out[j] = o[j] * fast_tanh(c_out[j]);
  }
}

LSTMCellResult CpuBackend::lstm_cell(const Tensor& gates, const Tensor& c_prev) {
  const int64_t batch = c_prev.size(0), hidden = c_prev.size(1);
  LSTMCellResult out{empty({batch, hidden}), empty({batch, hidden}), empty({batch, 4 * hidden})};
  const float* pre = gates.data<float>();
  const float* c0 = c_prev.data<float>();
  float *h = out.h.data<float>(), *c = out.c.data<float>(), *act = out.activations.data<float>();
#pragma omp parallel for if (batch * hidden >= kParallelThreshold / 8)
  for (int64_t b = 0; b < batch; ++b) {
    lstm_cell_row(pre + b * 4 * hidden, c0 + b * hidden, act + b * 4 * hidden, c + b * hidden,
                  h + b * hidden, hidden);
  }
  return out;
}

// With dh, dc the gradients reaching h and c (dc also gets h's share through tanh(c)):
//   dc_total = dc + dh o (1 - tanh^2 c)
//   do = dh tanh c,  di = dc_total g,  dg = dc_total i,  df = dc_total c_prev,
//   dc_prev = dc_total f,
// then through the nonlinearities: sigmoid' = s (1 - s), tanh' = 1 - t^2.
// A gradient that did not arrive (undefined) is zero.
TG_VECTOR_KERNEL static void lstm_cell_backward_row(const float* a, const float* c0,
                                                    const float* c1, const float* dh,
                                                    const float* dc, float* d, float* dc0,
                                                    int64_t hidden) {
  const float *i = a, *f = a + hidden, *g = a + 2 * hidden, *o = a + 3 * hidden;
  float *di = d, *df = d + hidden, *dg = d + 2 * hidden, *d_o = d + 3 * hidden;
#pragma omp simd
  for (int64_t j = 0; j < hidden; ++j) {
    const float tanh_c = fast_tanh(c1[j]);
    const float total = dc[j] + dh[j] * o[j] * (1.0f - tanh_c * tanh_c);
    di[j] = total * g[j] * i[j] * (1.0f - i[j]);
    df[j] = total * c0[j] * f[j] * (1.0f - f[j]);
    dg[j] = total * i[j] * (1.0f - g[j] * g[j]);
    d_o[j] = dh[j] * tanh_c * o[j] * (1.0f - o[j]);
    dc0[j] = total * f[j];
  }
}

LSTMCellGrads CpuBackend::lstm_cell_backward(const Tensor& activations, const Tensor& c_prev,
                                             const Tensor& c, const Tensor& grad_h,
                                             const Tensor& grad_c) {
  const int64_t batch = c_prev.size(0), hidden = c_prev.size(1);
  auto or_zeros = [&](const Tensor& grad) {
    if (grad.defined()) return grad;
    Tensor zeros = empty({batch, hidden});
    fill(zeros, 0.0f);
    return zeros;
  };
  const Tensor dh_tensor = or_zeros(grad_h), dc_tensor = or_zeros(grad_c);
  LSTMCellGrads out{empty({batch, 4 * hidden}), empty({batch, hidden})};
  const float* act = activations.data<float>();
  const float *c0 = c_prev.data<float>(), *c1 = c.data<float>();
  const float *dh = dh_tensor.data<float>(), *dc = dc_tensor.data<float>();
  float *dgates = out.gates.data<float>(), *dc0 = out.c_prev.data<float>();
#pragma omp parallel for if (batch * hidden >= kParallelThreshold / 8)
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t row = b * hidden;
    lstm_cell_backward_row(act + 4 * row, c0 + row, c1 + row, dh + row, dc + row, dgates + 4 * row,
                           dc0 + row, hidden);
  }
  return out;
}

}  // namespace tg
