#include "framework/ops/matmul.h"

#include <algorithm>

#include "framework/backend/backend.h"
#include "framework/ops/checks.h"
#include "framework/ops/reduce.h"
#include "framework/ops/shape.h"
#include "framework/tape.h"

namespace tg {

namespace {

// A matrix operand as gemm sees it: its leading (batch) dims, and op(X) being rows x cols.
struct Operand {
  Shape batch;
  int64_t rows, cols;
};

Operand describe(const Tensor& x, bool transposed) {
  const int64_t r = x.shape()[x.dim() - 2], c = x.shape()[x.dim() - 1];
  return {Shape(x.shape().begin(), x.shape().end() - 2), transposed ? c : r, transposed ? r : c};
}

// The operand laid out for a batch of `batch` matrices: a stride of 0 when it is one matrix
// shared by the whole batch, otherwise its own batch (expanded by a copy if it broadcasts).
std::pair<Tensor, int64_t> batched(const Tensor& x, const Shape& own_batch, const Shape& batch,
                                   int64_t matrix_size) {
  if (numel_of(own_batch) == 1) return {x, 0};
  if (own_batch == batch) return {x, matrix_size};
  Shape full_shape = batch;
  full_shape.push_back(x.shape()[x.dim() - 2]);
  full_shape.push_back(x.shape()[x.dim() - 1]);
  return {backend_of(x).expand(x, full_shape), matrix_size};
}

// The forward product without recording.
Tensor matmul_forward(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  const Operand oa = describe(a, trans_a), ob = describe(b, trans_b);
  check(oa.cols == ob.rows, "matmul: inner dimensions differ: ", a.shape(), trans_a ? "^T" : "",
        " x ", b.shape(), trans_b ? "^T" : "");
  const int64_t m = oa.rows, k = oa.cols, n = ob.cols;
  Backend& backend = backend_of(a);

  // A batched a against one 2-D b is a single [batch*m, k] x [k, n] product.
  if (b.dim() == 2 && a.dim() > 2 && !trans_a) {
    Shape out_shape = oa.batch;
    out_shape.push_back(m);
    out_shape.push_back(n);
    Tensor c = empty(out_shape, DType::Float32, a.device());
    const int64_t rows = numel_of(oa.batch) * m;
    if (c.numel() > 0) backend.gemm(false, trans_b, rows, n, k, 1.0f, a, 0, b, 0, 0.0f, c, 0, 1);
    return c;
  }

  const Shape batch = broadcast_shapes(oa.batch, ob.batch, "matmul");
  const auto [pa, stride_a] = batched(a, oa.batch, batch, m * k);
  const auto [pb, stride_b] = batched(b, ob.batch, batch, k * n);
  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  Tensor c = empty(out_shape, DType::Float32, a.device());
  if (c.numel() > 0)
    backend.gemm(trans_a, trans_b, m, n, k, 1.0f, pa, stride_a, pb, stride_b, 0.0f, c, m * n,
                 numel_of(batch));
  return c;
}

}  // namespace

// C = op(A) op(B). With G = dL/dC:
//   dA = G op(B)^T        (or, when A enters transposed, dA = op(B) G^T)
//   dB = op(A)^T G        (or, when B enters transposed, dB = G^T op(A))
// Each is itself one matmul with transpose flags; broadcast batch dims are summed back by the
// engine. When B is one 2-D matrix used across A's batch, dB is one 2-D product over the
// flattened batch instead of a batch of products summed afterwards.
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  check_float(a, "matmul");
  check_float(b, "matmul");
  check_same_device(a, b, "matmul");
  check(a.dim() >= 2 && b.dim() >= 2, "matmul: both operands need at least 2 dims, got ", a.shape(),
        " x ", b.shape());
  Tensor c = matmul_forward(a, b, trans_a, trans_b);
  const bool b_shared_2d = b.dim() == 2 && a.dim() > 2 && !trans_a;
  Saved saved{b.requires_grad() ? a : Tensor(), a.requires_grad() ? b : Tensor()};
  return record("matmul", {a, b}, c, std::move(saved),
                [trans_a, trans_b, b_shared_2d](const Saved& s, const Tensor& g) -> Grads {
                  const Tensor& a = s[0];  // defined when b needs a gradient
                  const Tensor& b = s[1];  // defined when a needs a gradient
                  Tensor ga, gb;
                  if (b.defined()) {
                    ga = trans_a ? matmul_forward(b, g, trans_b, true)
                                 : matmul_forward(g, b, false, !trans_b);
                  }
                  if (a.defined() && b_shared_2d) {
                    const Tensor a2 = make_view(a, {a.numel() / a.size(-1), a.size(-1)});
                    const Tensor g2 = make_view(g, {g.numel() / g.size(-1), g.size(-1)});
                    gb = trans_b ? matmul_forward(g2, a2, true, false)
                                 : matmul_forward(a2, g2, true, false);
                  } else if (a.defined()) {
                    gb = trans_b ? matmul_forward(g, a, true, trans_a)
                                 : matmul_forward(a, g, !trans_a, false);
                  }
                  return {ga, gb};
                });
}

// y = x W^T + bias. With G = dL/dy and X, G the rows of x and y (all leading dims flattened):
//   dx = G W,   dW = G^T X,   dbias = G summed over the rows ([out]) or G itself ([..., out]).
// When W is a leaf (a parameter), dW is not returned but handed to the engine as the product
// G^T X, which it adds into W's .grad with one gemm (tape.h, accumulate_product_into_leaf): an
// LSTM decoder stepped by hand makes one dW per step, and a fresh dW would cost two more passes
// over a matrix the size of W.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_float(x, "linear");
  check_float(weight, "linear");
  check_same_device(x, weight, "linear");
  check(weight.dim() == 2, "linear: expected weight [out, in], got ", weight.shape());
  const int64_t out = weight.size(0), in = weight.size(1);
  check(x.dim() >= 1 && x.size(-1) == in, "linear: expected x [..., ", in, "] for weight ",
        weight.shape(), ", got ", x.shape());
  Shape y_shape = x.shape();
  y_shape.back() = out;
  Backend& backend = backend_of(x);
  Tensor y;
  if (bias.defined()) {
    check_float(bias, "linear");
    check_same_device(x, bias, "linear");
    check(bias.shape() == Shape{out} || bias.shape() == y_shape, "linear: expected bias [", out,
          "] or ", y_shape, ", got ", bias.shape());
    y = backend.expand(bias, y_shape);  // a fresh tensor holding the bias in every row
  } else {
    y = empty(y_shape, DType::Float32, x.device());
  }
  const int64_t rows = x.numel() / std::max<int64_t>(in, 1);
  if (y.numel() > 0) {
    backend.gemm(false, true, rows, out, in, 1.0f, x, 0, weight, 0, bias.defined() ? 1.0f : 0.0f, y,
                 0, 1);
  }
  const bool weight_is_parameter = weight.requires_grad() && weight.is_leaf();
  Saved saved{weight.requires_grad() ? x : Tensor(), x.requires_grad() ? weight : Tensor(),
              weight_is_parameter ? weight : Tensor()};
  const bool has_bias = bias.defined(), bias_needs_grad = bias.requires_grad();
  BackwardFn backward = [x_shape = x.shape(), bias_shape = has_bias ? bias.shape() : Shape{},
                         has_bias, bias_needs_grad, rows, in,
                         out](const Saved& s, const Tensor& g) -> Grads {
    const Tensor& x = s[0];          // defined when the weight needs a gradient
    const Tensor& weight = s[1];     // defined when x needs a gradient
    const Tensor& parameter = s[2];  // the weight, when it is a leaf
    const Tensor g_rows = make_view(g, {rows, out});
    Grads grads(has_bias ? 3 : 2);
    if (weight.defined())
      grads[0] = make_view(matmul_forward(g_rows, weight, false, false), x_shape);
    if (x.defined()) {
      const Tensor x_rows = make_view(x, {rows, in});
      if (parameter.defined())
        accumulate_product_into_leaf(parameter, g_rows, x_rows, /*trans_a=*/true, false);
      else
        grads[1] = matmul_forward(g_rows, x_rows, true, false);
    }
    if (bias_needs_grad) grads[2] = sum_to(g, bias_shape);
    return grads;
  };
  if (has_bias)
    return record("linear", {x, weight, bias}, y, std::move(saved), std::move(backward));
  return record("linear", {x, weight}, y, std::move(saved), std::move(backward));
}

}  // namespace tg
