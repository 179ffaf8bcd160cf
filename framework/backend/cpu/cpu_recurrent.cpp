// The fused LSTM cell: one pass over [B, H] for the gate nonlinearities and the state update,
// and one for their derivatives, instead of a dozen elementwise ops each with its own tensor.
#include <cmath>

#include "framework/backend/cpu/cpu_backend.h"

namespace tg {

static float sigmoid_of(float x) { return 1.0f / (1.0f + std::exp(-x)); }

LstmCellResult CpuBackend::lstm_cell(const Tensor& gates, const Tensor& c_prev) {
  const int64_t batch = c_prev.size(0), hidden = c_prev.size(1);
  LstmCellResult out{empty({batch, hidden}), empty({batch, hidden}), empty({batch, 4 * hidden})};
  const float* pre = gates.data<float>();
  const float* c0 = c_prev.data<float>();
  float *h = out.h.data<float>(), *c = out.c.data<float>(), *act = out.activations.data<float>();
#pragma omp parallel for if (batch * hidden >= kParallelThreshold / 8)
  for (int64_t b = 0; b < batch; ++b) {
    const float* row = pre + b * 4 * hidden;
    float* a = act + b * 4 * hidden;
    for (int64_t j = 0; j < hidden; ++j) {
      const float i = sigmoid_of(row[j]), f = sigmoid_of(row[hidden + j]);
      const float g = fast_tanh(row[2 * hidden + j]), o = sigmoid_of(row[3 * hidden + j]);
      a[j] = i, a[hidden + j] = f, a[2 * hidden + j] = g, a[3 * hidden + j] = o;
      const float c_new = f * c0[b * hidden + j] + i * g;
      c[b * hidden + j] = c_new;
      h[b * hidden + j] = o * fast_tanh(c_new);
    }
  }
  return out;
}

// With dh, dc the gradients reaching h and c (dc also gets h's share through tanh(c)):
//   dc_total = dc + dh o (1 - tanh^2 c)
//   do = dh tanh c,  di = dc_total g,  dg = dc_total i,  df = dc_total c_prev,
//   dc_prev = dc_total f,
// then through the nonlinearities: sigmoid' = s (1 - s), tanh' = 1 - t^2.
LstmCellGrads CpuBackend::lstm_cell_backward(const Tensor& activations, const Tensor& c_prev,
                                             const Tensor& c, const Tensor& grad_h,
                                             const Tensor& grad_c) {
  const int64_t batch = c_prev.size(0), hidden = c_prev.size(1);
  LstmCellGrads out{empty({batch, 4 * hidden}), empty({batch, hidden})};
  const float* act = activations.data<float>();
  const float *c0 = c_prev.data<float>(), *c1 = c.data<float>();
  const float* dh = grad_h.defined() ? grad_h.data<float>() : nullptr;
  const float* dc = grad_c.defined() ? grad_c.data<float>() : nullptr;
  float *dgates = out.gates.data<float>(), *dc0 = out.c_prev.data<float>();
#pragma omp parallel for if (batch * hidden >= kParallelThreshold / 8)
  for (int64_t b = 0; b < batch; ++b) {
    const float* a = act + b * 4 * hidden;
    float* d = dgates + b * 4 * hidden;
    for (int64_t j = 0; j < hidden; ++j) {
      const int64_t k = b * hidden + j;
      const float i = a[j], f = a[hidden + j], g = a[2 * hidden + j], o = a[3 * hidden + j];
      const float tanh_c = fast_tanh(c1[k]);
      const float grad_h_k = dh ? dh[k] : 0.0f;
      const float total = (dc ? dc[k] : 0.0f) + grad_h_k * o * (1.0f - tanh_c * tanh_c);
      d[j] = total * g * i * (1.0f - i);
      d[hidden + j] = total * c0[k] * f * (1.0f - f);
      d[2 * hidden + j] = total * i * (1.0f - g * g);
      d[3 * hidden + j] = grad_h_k * tanh_c * o * (1.0f - o);
      dc0[k] = total * f;
    }
  }
  return out;
}

}  // namespace tg
