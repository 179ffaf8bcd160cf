#include "framework/ops/quantized.h"

#include <algorithm>

#include "framework/backend/quantized_kernels.h"
#include "framework/ops/checks.h"
#include "framework/tape.h"

namespace tg {

namespace {

// The int8 values of a packed tensor on the host.
const int8_t* host_int8(const Tensor& packed) {
  return reinterpret_cast<const int8_t*>(packed.data<int32_t>());
}

void check_int8_matrix(const Int8Matrix& w, const char* op) {
  check(w.values.defined() && w.scale.defined(), op, ": the int8 weight is empty");
  check(w.values.dtype() == DType::Int32 &&
            w.values.shape() == Shape{w.rows, int8_row_stride(w.cols) / 4},
        op, ": expected int8 values packed as int32 [", w.rows, ", ", int8_row_stride(w.cols) / 4,
        "], got ", to_string(w.values.dtype()), " ", w.values.shape());
  check(w.scale.dtype() == DType::Float32 && w.scale.shape() == Shape{w.rows}, op,
        ": expected float32 scales [", w.rows, "], got ", to_string(w.scale.dtype()), " ",
        w.scale.shape());
}

}  // namespace

const char* to_string(Int8Activations mode) {
  return mode == Int8Activations::Float ? "float" : "dynamic";
}

// A one-off conversion, on a host copy (as a checkpoint's is), not a kernel of every device.
Int8Matrix quantize_per_row(const Tensor& weight) {
  check_float(weight, "quantize_per_row");
  check(weight.dim() == 2, "quantize_per_row: expected a weight [rows, cols], got ",
        weight.shape());
  const int64_t rows = weight.size(0), cols = weight.size(1), stride = int8_row_stride(cols);
  const Tensor w = weight.detach().to(Device::CPU);
  Tensor values = empty({rows, stride / 4}, DType::Int32);
  Tensor scale = empty({rows});
  auto* q = reinterpret_cast<int8_t*>(values.data<int32_t>());
  const float* pw = w.data<float>();
  for (int64_t r = 0; r < rows; ++r)
    scale.data<float>()[r] = quantize_row(pw + r * cols, cols, q + r * stride, stride);
  return {values.to(weight.device()), scale.to(weight.device()), rows, cols};
}

Tensor dequantize(const Int8Matrix& weight) {
  check_int8_matrix(weight, "dequantize");
  const Tensor values = weight.values.to(Device::CPU), scale = weight.scale.to(Device::CPU);
  Tensor w = empty({weight.rows, weight.cols});
  const int64_t stride = int8_row_stride(weight.cols);
  for (int64_t r = 0; r < weight.rows; ++r)
    dequantize_row(host_int8(values) + r * stride, scale.data<float>()[r], weight.cols,
                   w.data<float>() + r * weight.cols);
  return w.to(weight.values.device());
}

int8_t int8_at(const Int8Matrix& weight, int64_t row, int64_t col) {
  check(row >= 0 && row < weight.rows && col >= 0 && col < weight.cols, "int8_at: [", row, ", ",
        col, "] is outside [", weight.rows, ", ", weight.cols, "]");
  const Tensor values = weight.values.to(Device::CPU);
  return host_int8(values)[row * int8_row_stride(weight.cols) + col];
}

Tensor linear_int8(const Tensor& x, const Int8Matrix& weight, const Tensor& bias,
                   Int8Activations mode) {
  check_float(x, "linear_int8");
  check_int8_matrix(weight, "linear_int8");
  check_same_device(x, weight.values, "linear_int8");
  check(x.device() == Device::CPU,
        "linear_int8: int8 inference runs on the CPU only, the model "
        "is on ",
        to_string(x.device()));
  check(x.dim() >= 1 && x.size(-1) == weight.cols, "linear_int8: expected x [..., ", weight.cols,
        "] for an int8 weight [", weight.rows, ", ", weight.cols, "], got ", x.shape());
  if (bias.defined()) {
    check_float(bias, "linear_int8");
    check(bias.shape() == Shape{weight.rows}, "linear_int8: expected bias [", weight.rows,
          "], got ", bias.shape());
  }
  Shape y_shape = x.shape();
  y_shape.back() = weight.rows;
  const int64_t rows = x.numel() / std::max<int64_t>(weight.cols, 1);
  const Tensor x_rows = make_view(x, {rows, weight.cols});
  const Tensor y = make_view(
      cpu_linear_int8(x_rows, weight.values, weight.scale, bias, mode == Int8Activations::Dynamic),
      y_shape);
  // Recorded when x or the bias asks for a gradient, so that backward says why there is none.
  return record("linear_int8", {x, bias.defined() ? bias : x}, y, {},
                [](const Saved&, const Tensor&) -> Grads {
                  fail(
                      "linear_int8: an int8-quantized layer has no backward: quantized models "
                      "are for inference (train the float model, then quantize it)");
                });
}

}  // namespace tg
