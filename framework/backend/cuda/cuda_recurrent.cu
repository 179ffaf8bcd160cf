// The fused LSTM cell on the GPU: one thread per (row, unit). The math is that of
// backend/cpu/cpu_recurrent.cpp.
#include "framework/backend/cuda/cuda_backend.h"
#include "framework/backend/cuda/cuda_kernels.cuh"

namespace tg {
namespace {

__device__ float sigmoid_of(float x) { return 1.0f / (1.0f + expf(-x)); }

__global__ void lstm_cell_kernel(int64_t n, int64_t hidden, const float* pre, const float* c0,
                                 float* h, float* c, float* act) {
  for (int64_t k = cuda::first_index(); k < n; k += cuda::index_stride()) {
    const int64_t b = k / hidden, j = k % hidden;
    const float* row = pre + b * 4 * hidden;
    float* a = act + b * 4 * hidden;
    const float i = sigmoid_of(row[j]), f = sigmoid_of(row[hidden + j]);
    const float g = tanhf(row[2 * hidden + j]), o = sigmoid_of(row[3 * hidden + j]);
    a[j] = i, a[hidden + j] = f, a[2 * hidden + j] = g, a[3 * hidden + j] = o;
    const float c_new = f * c0[k] + i * g;
    c[k] = c_new;
    h[k] = o * tanhf(c_new);
  }
}

__global__ void lstm_cell_backward_kernel(int64_t n, int64_t hidden, const float* act,
                                          const float* c0, const float* c1, const float* dh,
                                          const float* dc, float* dgates, float* dc0) {
  for (int64_t k = cuda::first_index(); k < n; k += cuda::index_stride()) {
    const int64_t b = k / hidden, j = k % hidden;
    const float* a = act + b * 4 * hidden;
    float* d = dgates + b * 4 * hidden;
    const float i = a[j], f = a[hidden + j], g = a[2 * hidden + j], o = a[3 * hidden + j];
    const float tanh_c = tanhf(c1[k]);
    const float grad_h = dh ? dh[k] : 0.0f;
    const float total = (dc ? dc[k] : 0.0f) + grad_h * o * (1.0f - tanh_c * tanh_c);
    d[j] = total * g * i * (1.0f - i);
    d[hidden + j] = total * c0[k] * f * (1.0f - f);
    d[2 * hidden + j] = total * i * (1.0f - g * g);
    d[3 * hidden + j] = grad_h * tanh_c * o * (1.0f - o);
    dc0[k] = total * f;
  }
}

}  // namespace

LSTMCellResult CudaBackend::lstm_cell(const Tensor& gates, const Tensor& c_prev) {
  const int64_t batch = c_prev.size(0), hidden = c_prev.size(1);
  const Device gpu = Device::CUDA;
  LSTMCellResult out{empty({batch, hidden}, DType::Float32, gpu),
                     empty({batch, hidden}, DType::Float32, gpu),
                     empty({batch, 4 * hidden}, DType::Float32, gpu)};
  cuda::launch("lstm_cell", batch * hidden, lstm_cell_kernel, hidden, gates.device_data<float>(),
               c_prev.device_data<float>(), out.h.device_data<float>(), out.c.device_data<float>(),
               out.activations.device_data<float>());
  return out;
}

LSTMCellGrads CudaBackend::lstm_cell_backward(const Tensor& activations, const Tensor& c_prev,
                                              const Tensor& c, const Tensor& grad_h,
                                              const Tensor& grad_c) {
  const int64_t batch = c_prev.size(0), hidden = c_prev.size(1);
  const Device gpu = Device::CUDA;
  LSTMCellGrads out{empty({batch, 4 * hidden}, DType::Float32, gpu),
                    empty({batch, hidden}, DType::Float32, gpu)};
  const float* dh = grad_h.defined() ? grad_h.device_data<float>() : nullptr;
  const float* dc = grad_c.defined() ? grad_c.device_data<float>() : nullptr;
  cuda::launch("lstm_cell_backward", batch * hidden, lstm_cell_backward_kernel, hidden,
               activations.device_data<float>(), c_prev.device_data<float>(),
               c.device_data<float>(), dh, dc, out.gates.device_data<float>(),
               out.c_prev.device_data<float>());
  return out;
}

}  // namespace tg
